"""Downloads: one clip's MP4, captions and NLE timelines, and the zip of a job's approved clips.

Captions and timelines are generated on request from the clip's stored record (the rendered_clips manifest entry,
or a re-rendered version's ``clip.json``): they are small and deterministic, so nothing is stored for them. A zip
is streamed member by member; everything it needs from the database is read before the first byte goes out.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError, not_found
from api.models import Clip, ClipVersion, Job
from api.services.rendering import settle_versions
from api.state import AppState
from clipped.export.clip_export import CAPTION_FORMATS, clip_record, clip_subtitles, clip_timeline, source_media
from clipped.export.timelines import NLE_FORMATS
from clipped.export.zip_stream import ZipMember
from clipped.layout import SOURCE_FILE, SourceRef, check_key
from clipped.storage import Storage

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class DownloadFormat:
    label: str
    suffix: str
    media_type: str


DOWNLOAD_FORMATS: dict[str, DownloadFormat] = {
    "mp4": DownloadFormat("Video (MP4)", ".mp4", "video/mp4"),
    "srt": DownloadFormat("Captions (SRT)", ".srt", "application/x-subrip"),
    "vtt": DownloadFormat("Captions (WebVTT)", ".vtt", "text/vtt"),
    **{key: DownloadFormat(f.label, f.suffix, f.media_type) for key, f in NLE_FORMATS.items()},
}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_VIDEO_SUFFIX = re.compile(r"\.(mp4|m4v|mov|mkv|webm|avi|ts)$", re.IGNORECASE)
MAX_NAME_CHARS = 80


def download_name(title: str, fallback: str) -> str:
    """A file name (without suffix) from a user's title: no path separators, control or reserved characters,
    no leading dots, at most :data:`MAX_NAME_CHARS`; ``fallback`` when nothing usable is left."""
    name = _UNSAFE.sub(" ", unicodedata.normalize("NFC", title))
    name = " ".join(name.split())[:MAX_NAME_CHARS].strip(" .")
    return name or fallback


def job_name(job: Job, fallback: str) -> str:
    """The job's name for files and folders: its display name (often the uploaded file's) without a video
    suffix, so the export of "talk.mp4" is "talk - approved clips.zip", not "talk.mp4 - …"."""
    return download_name(_VIDEO_SUFFIX.sub("", job.display_name), fallback)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the exact name as RFC 5987 ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@dataclass(frozen=True)
class ClipDownload:
    filename: str
    media_type: str
    text: str | None = None  # generated exports
    key: str | None = None  # the MP4, served from storage


def clip_file_name(clip: Clip, format_id: str) -> str:
    return download_name(clip.title, f"clip-{clip.rank:02d}") + DOWNLOAD_FORMATS[format_id].suffix


def ready_version(session: Session, clip: Clip, number: int | None) -> ClipVersion:
    """Version ``number`` of ``clip`` (its current one when None), if it is rendered; else 404."""
    wanted = number if number is not None else clip.version
    version = session.scalar(select(ClipVersion).where(ClipVersion.clip_id == clip.id, ClipVersion.version == wanted))
    if version is None or version.status != "ready":
        raise not_found("clip version")
    return version


def source_link(state: AppState, source: SourceRef, name: str) -> str:
    """Where an NLE finds the source: the file itself in local storage; in object storage a file URL with the
    source's name, which the editor relinks to their copy (NLEs relink by name)."""
    uri = state.storage.uri(source.key(SOURCE_FILE))
    return uri if uri.startswith("file:") else f"file:///{quote(name)}"


def clip_download(state: AppState, job: Job, clip: Clip, version: ClipVersion, format_id: str) -> ClipDownload:
    """One export of ``version`` of ``clip``; 404 "clip source" when the pipeline's records of it are gone."""
    kind = DOWNLOAD_FORMATS[format_id]
    filename = clip_file_name(clip, format_id)
    if format_id == "mp4":
        return ClipDownload(filename, kind.media_type, key=check_key(version.video_key, clip.workspace_id))
    storage, source = state.storage, SourceRef.from_partition_key(job.partition_key)
    try:
        record = clip_record(storage, source, clip.manifest_clip_id, version.version)
        if format_id in CAPTION_FORMATS:
            return ClipDownload(filename, kind.media_type, text=clip_subtitles(record, format_id))
        media_name = job_name(job, source.video_id) + ".mp4"
        media = source_media(storage, source, source_link(state, source, media_name), media_name)
    except (LookupError, FileNotFoundError) as exc:
        raise not_found("clip source") from exc
    return ClipDownload(filename, kind.media_type, text=clip_timeline(record, media, format_id, name=clip.title))


def stored_file_chunks(storage: Storage, key: str) -> Iterator[bytes]:
    """The object's bytes in chunks, its local copy held open until the last one (object storage downloads it to
    a temporary file first, which a plain file response would lose when the block ends)."""
    with storage.local_path(key) as path, path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


@dataclass(frozen=True)
class JobExport:
    filename: str
    members: list[ZipMember]
    clips: int


def approved_clips(session: Session, state: AppState, job: Job) -> list[Clip]:
    clips = session.scalars(
        select(Clip).where(Clip.job_id == job.id, Clip.status == "approved").order_by(Clip.rank, Clip.id)
    ).all()
    settle_versions(state, session, clips)
    return list(clips)


def export_file_name(job: Job) -> str:
    return job_name(job, "clips") + " - approved clips.zip"


def job_export(state: AppState, session: Session, job: Job) -> JobExport:
    """The zip of ``job``'s approved clips: per clip its current MP4 and SRT, plus ``metadata.json`` (titles,
    times, scores, descriptions, hashtags). 409 when nothing is approved; 404 when a clip's files are gone."""
    clips = approved_clips(session, state, job)
    if not clips:
        raise ApiError(409, "this job has no approved clips to export: approve some first")
    folder = job_name(job, "clips")
    members: list[ZipMember] = []
    entries = []
    for number, clip in enumerate(clips, 1):
        version = ready_version(session, clip, None)
        video = clip_download(state, job, clip, version, "mp4")
        captions = clip_download(state, job, clip, version, "srt")
        if not state.storage.exists(video.key):
            raise not_found("clip file")
        stem = f"{number:02d} {download_name(clip.title, f'clip-{clip.rank:02d}')}"
        members.append(ZipMember(f"{folder}/{stem}.mp4", open_file=lambda key=video.key: state.storage.local_path(key)))
        members.append(ZipMember(f"{folder}/{stem}.srt", text=captions.text))
        entries.append(_clip_metadata(clip, version, f"{stem}.mp4", f"{stem}.srt"))
    metadata = {
        "job": {"id": job.id, "name": job.display_name, "source": job.partition_key},
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "clips": entries,
    }
    members.append(ZipMember(f"{folder}/metadata.json", text=json.dumps(metadata, indent=2, ensure_ascii=False)))
    return JobExport(export_file_name(job), members, len(clips))


def _clip_metadata(clip: Clip, version: ClipVersion, video: str, captions: str) -> dict[str, object]:
    return {
        "file": video,
        "captions": captions,
        "id": clip.id,
        "rank": clip.rank,
        "title": clip.title,
        "description": clip.description,
        "hashtags": list(clip.hashtags),
        "start_s": round(clip.start_s, 3),
        "end_s": round(clip.end_s, 3),
        "duration_s": round(clip.end_s - clip.start_s, 3),
        "score": round(clip.score, 4),
        "scores": clip.scores,
        "reason": clip.reason,
        "version": version.version,
        "caption_style": version.caption_style,
    }
