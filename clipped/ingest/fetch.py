"""Getting the original bytes of a source: a local file inside the allowed roots, or an allowlisted URL."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from clipped.ingest.url_policy import (
    ALLOWED_VIDEO_DOMAINS,
    Resolver,
    is_loopback_url,
    public_connections_only,
    resolve_host,
    validate_video_url,
)
from clipped.layout import check_key
from clipped.progress import ProgressCallback, no_progress
from clipped.sources import SourceRequest
from clipped.storage import Storage


class SourceAccessError(ValueError):
    """A source that may not be read (outside the allowed roots, missing, refused URL, failed download)."""


class LiveSourceError(SourceAccessError):
    """A live stream sent as a video: downloading it would record without end, so it is refused."""


# yt-dlp's live_status values of something that is (or is about to be) on air: nothing to download yet.
LIVE_STATUSES = frozenset({"is_live", "is_upcoming"})
LIVE_SOURCE_MESSAGE = (
    "{url} is a live stream, not a video: record it as a stream instead "
    "(`clipped stream URL`, or POST /api/streams), which cuts clips while it is live"
)


def refuse_live(url: str, info: dict) -> None:
    """Raise :class:`LiveSourceError` when yt-dlp's ``info`` (from ``extract_info(download=False)``) describes a
    live or upcoming broadcast; a live HLS playlist (no ``#EXT-X-ENDLIST``) reads as ``is_live`` too."""
    if info.get("is_live") or info.get("live_status") in LIVE_STATUSES:
        raise LiveSourceError(LIVE_SOURCE_MESSAGE.format(url=url))


def resolve_local_source(path_text: str, allowed_roots: Iterable[str]) -> Path:
    """The real path of a local source, refused unless it lies inside one of ``allowed_roots``.

    Symlinks are resolved first so a link inside a root cannot point outside it.
    """
    path = Path(path_text).expanduser().resolve()
    roots = [Path(root).expanduser().resolve() for root in allowed_roots]
    if not any(path == root or path.is_relative_to(root) for root in roots):
        raise SourceAccessError(f"path {path} is outside the allowed roots ({', '.join(map(str, roots)) or 'none'})")
    if path.is_dir():
        raise SourceAccessError(f"{path} is a directory, not a video file")
    if not path.exists():
        raise SourceAccessError(f"file not found: {path}")
    if not path.is_file():
        raise SourceAccessError(f"{path} is not a regular file (a device, socket or pipe), not a video file")
    return path


@dataclass(frozen=True)
class Download:
    """What :func:`download_url` got: the video's stamp, and its file unless the caller said it was not needed."""

    stamp: str  # yt-dlp's extractor and video id: the same for every download of the same video ("" if none)
    path: Path | None


def _download_everything(stamp: str) -> bool:
    return False


def download_url(
    url: str,
    work_dir: Path,
    *,
    max_filesize_bytes: int,
    allowed_domains: Iterable[str] = ALLOWED_VIDEO_DOMAINS,
    resolver: Resolver = resolve_host,
    on_progress: ProgressCallback = no_progress,
    allow_loopback: bool = False,
    skip_download: Callable[[str], bool] = _download_everything,
) -> Download:
    """Download an allowlisted video URL with yt-dlp into ``work_dir``.

    The URL's metadata is read first and a live stream is refused (:class:`LiveSourceError`) before any byte of
    media is fetched. ``skip_download(stamp)`` is then asked whether the video with that stamp is already known
    (its content hash remembered): if so nothing is downloaded and the result has no path. ``allow_loopback`` is
    the tests' allowance for a server on 127.0.0.1, never set otherwise.
    """
    import yt_dlp

    validate_video_url(url, allowed_domains=allowed_domains, resolver=resolver, allow_loopback=allow_loopback)

    def hook(status: dict) -> None:
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if status.get("status") == "downloading" and total:
            on_progress(min(1.0, status.get("downloaded_bytes", 0) / total))

    options = {
        "format": "bv*[height<=2160]+ba/b[height<=2160]/b",
        "merge_output_format": "mp4",
        "outtmpl": str(work_dir / "download.%(ext)s"),
        "noplaylist": True,
        "max_filesize": max_filesize_bytes,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "socket_timeout": 30,
        "progress_hooks": [hook],
        # SSRF: only site extractors (the generic one fetches any page and follows whatever it embeds), yt-dlp's
        # own downloaders in this thread (no ffmpeg or aria2c fetching by themselves, no fragment threads), all
        # inside public_connections_only, which checks the address of every connection they make.
        # (The tests' loopback allowance keeps the generic one for their local HLS server's bare playlist URL.)
        "allowed_extractors": ["default"] if allow_loopback and is_loopback_url(url) else ["default", "-generic"],
        "external_downloader": {},
        "hls_prefer_native": True,
        "concurrent_fragment_downloads": 1,
    }
    try:
        with public_connections_only(allow_loopback=allow_loopback), yt_dlp.YoutubeDL(options) as downloader:
            info = downloader.extract_info(url, download=False)
            refuse_live(url, info or {})
            stamp = video_stamp(info or {})
            if stamp and skip_download(stamp):
                return Download(stamp=stamp, path=None)
            downloader.process_ie_result(info, download=True)
    except yt_dlp.utils.DownloadError as exc:
        raise SourceAccessError(f"download failed: {str(exc).splitlines()[0][:200]}") from exc
    files = sorted(work_dir.glob("download.*"))
    if not files:
        raise SourceAccessError("download produced no file")
    return Download(stamp=stamp, path=files[0])


def video_stamp(info: dict) -> str:
    """``extractor:id`` from yt-dlp's metadata: names one video on one site; "" when the site gives no id."""
    video_id = info.get("id")
    if not video_id:
        return ""
    return f"{info.get('extractor_key') or info.get('extractor') or 'generic'}:{video_id}"


def fetch_original(
    request: SourceRequest,
    scratch: Path,
    storage: Storage,
    workspace_id: str,
    *,
    allowed_roots: Iterable[str],
    allowed_domains: Iterable[str],
    max_download_bytes: int,
) -> Path:
    """A local path with the original bytes of ``request``; refuses anything outside policy before reading it.

    Uploads must lie in ``workspace_id``'s storage; downloads and uploads land in ``scratch``.
    """
    if request.kind == "file":
        return resolve_local_source(request.location, allowed_roots)
    if request.kind == "url":
        download = download_url(
            request.location, scratch, max_filesize_bytes=max_download_bytes, allowed_domains=allowed_domains
        )
        assert download.path is not None  # nothing was skipped
        return download.path
    check_key(request.location, workspace_id)
    local = scratch / ("upload" + Path(request.location).suffix)
    try:
        storage.download(request.location, local)
    except FileNotFoundError:
        raise SourceAccessError(f"upload not found: {request.location}") from None
    return local
