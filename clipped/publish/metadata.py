"""Each platform's text and file limits, and the post text made from a clip's edited title, description, hashtags."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clipped.publish.models import Platform


@dataclass(frozen=True)
class PlatformLimits:
    """Documented limits of a platform's short-video post (the ones we check before uploading)."""

    title_max: int  # 0 = the platform has no separate title
    caption_max: int
    hashtag_max: int
    max_duration_s: float
    max_bytes: int
    # YouTube files a vertical video of at most 3 minutes as a Short; the tag makes it explicit in the title.
    shorts_tag: bool = False


LIMITS: dict[Platform, PlatformLimits] = {
    # YouTube Data API: title ≤ 100 characters, description ≤ 5,000 bytes; Shorts up to 3 minutes.
    "youtube": PlatformLimits(
        title_max=100, caption_max=5000, hashtag_max=15, max_duration_s=180, max_bytes=256 * 1024**3, shorts_tag=True
    ),
    # TikTok Content Posting API: title (the caption) ≤ 2,200 UTF-16 units.
    "tiktok": PlatformLimits(title_max=0, caption_max=2200, hashtag_max=30, max_duration_s=600, max_bytes=4 * 1024**3),
    # Instagram Reels: caption ≤ 2,200 characters, ≤ 30 hashtags, up to 15 minutes via the API.
    "instagram": PlatformLimits(title_max=0, caption_max=2200, hashtag_max=30, max_duration_s=900, max_bytes=1024**3),
    # X: post text ≤ 280 characters (URLs count 23); video ≤ 140 s and 512 MB for standard accounts.
    "x": PlatformLimits(title_max=0, caption_max=280, hashtag_max=5, max_duration_s=140, max_bytes=512 * 1024**2),
}  # fmt: skip

_HASHTAG = re.compile(r"[^\w]+", re.UNICODE)


class PostTooLargeError(ValueError):
    """The clip itself (duration or size) is over the platform's limit; text is shortened, media never is."""


@dataclass(frozen=True)
class PostText:
    title: str
    caption: str


def normalise_hashtags(hashtags: list[str], limit: int) -> list[str]:
    """``#word`` tags without spaces or punctuation, deduplicated case-insensitively, at most ``limit``."""
    seen: set[str] = set()
    tags = []
    for raw in hashtags:
        word = _HASHTAG.sub("", raw.lstrip("#"))
        if word and word.lower() not in seen:
            seen.add(word.lower())
            tags.append(f"#{word}")
    return tags[:limit]


def _fit(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)].rsplit(" ", 1)[0].rstrip(" ,.;:-")
    return (cut or text[: limit - 1]) + "…"


def compose_post_text(platform: Platform, title: str, description: str, hashtags: list[str]) -> PostText:
    """The title and caption for ``platform``: within its limits, hashtags kept whole, ``#Shorts`` on YouTube."""
    limits = LIMITS[platform]
    tags = normalise_hashtags(hashtags, limits.hashtag_max)
    if limits.shorts_tag and "#shorts" not in {tag.lower() for tag in tags}:
        tags = [*tags[: limits.hashtag_max - 1], "#Shorts"]
    tag_text = " ".join(tags)
    if limits.title_max:
        shorts = " #Shorts" if limits.shorts_tag else ""
        fitted_title = _fit(title, limits.title_max - len(shorts)) + shorts
        body = "\n\n".join(part for part in (description.strip(), tag_text) if part)
        return PostText(title=fitted_title, caption=_fit_keeping_tail(body, tag_text, limits.caption_max))
    text = " ".join(part for part in (title.strip(), description.strip()) if part)
    body = "\n\n".join(part for part in (text, tag_text) if part)
    return PostText(title="", caption=_fit_keeping_tail(body, tag_text, limits.caption_max))


def _fit_keeping_tail(body: str, tail: str, limit: int) -> str:
    """Shorten the text before ``tail`` (the hashtags) so the whole fits in ``limit``; drop tags only if they alone
    do not fit."""
    if len(body) <= limit:
        return body
    if not tail or len(tail) + 2 >= limit:
        return _fit(body, limit)
    head = body[: len(body) - len(tail)].rstrip()
    return _fit(head, limit - len(tail) - 2) + "\n\n" + tail


def check_media(platform: Platform, duration_s: float, size_bytes: int) -> None:
    """Refuse a clip the platform would refuse, before any upload starts."""
    limits = LIMITS[platform]
    if duration_s > limits.max_duration_s:
        raise PostTooLargeError(
            f"{platform} takes videos up to {limits.max_duration_s:.0f} s; this clip is {duration_s:.1f} s"
        )
    if size_bytes > limits.max_bytes:
        raise PostTooLargeError(f"{platform} takes files up to {limits.max_bytes} bytes; this clip is {size_bytes}")
