"""Running the clip job for one source in process, against a Dagster instance, and exporting the result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dagster import DagsterInstance, Definitions, ExecuteInProcessResult

from clipped.export.clip_export import clip_subtitles
from clipped.ingest.fetch import resolve_local_source
from clipped.ingest.url_policy import validate_video_url
from clipped.layout import RENDERED_CLIPS_FILE, REQUEST_FILE, SourceRef
from clipped.render_manifest import RenderedClipsManifest
from clipped.run_tags import run_tags_for
from clipped.sources import SourceRequest, request_for, source_ref_for
from clipped.types import ClipSettings
from clipped_app.instance import process_tags
from clipped_assets.partitions import source_video_partitions
from clipped_resources.gpu_runs import clip_job_uses_gpu
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.storage import StorageResource

MANIFEST_NAME = "clips.json"


class PipelineFailedError(RuntimeError):
    """The job failed; the message is the failing step and its one-line reason."""


def check_source(policy: IngestPolicy, location: str) -> None:
    """Refuse a source ingest would refuse, before it is registered (a URL off the allowlist or resolving to a
    private address, a path outside the allowed roots, missing, or a folder): raises ValueError saying why."""
    if "://" in location:
        validate_video_url(location, allowed_domains=policy.allowed_domains)
    else:
        resolve_local_source(location, policy.allowed_roots)


def register_source(
    storage: StorageResource,
    instance: DagsterInstance,
    location: str,
    settings: ClipSettings,
    workspace_id: str,
) -> SourceRef:
    """Store the source request and add its partition (idempotent for the same location and workspace)."""
    return register_request(storage, instance, request_for(location, settings), workspace_id)


def register_request(
    storage: StorageResource, instance: DagsterInstance, request: SourceRequest, workspace_id: str
) -> SourceRef:
    """Store ``request`` beside its source and add the source's partition (any request kind: file, URL, upload)."""
    source = source_ref_for(request, workspace_id)
    storage.write_model(source.key(REQUEST_FILE), request)
    if not instance.has_dynamic_partition(source_video_partitions.name, source.partition_key):
        instance.add_dynamic_partitions(source_video_partitions.name, [source.partition_key])
    return source


def run_clip_job(
    defs: Definitions,
    instance: DagsterInstance,
    source: SourceRef,
    *,
    log_level: str = "INFO",
    trigger: str = "cli",
    run_id: str | None = None,
) -> ExecuteInProcessResult:
    """Materialize the whole graph for ``source`` in this process; raise with the first failure's reason.

    ``log_level`` only affects the console; the instance's event log (what the UI shows) keeps everything.
    ``run_id`` lets a caller that queued the run beforehand (the review API) know its id in advance. The run's
    tags name this process, so if it is killed the next start of the instance marks the run failed.
    """
    job = defs.resolve_job_def("clip_job")
    uses_gpu = clip_job_uses_gpu(defs.resources["asr"], profile=None)  # steps execute in this process
    result = job.execute_in_process(
        instance=instance,
        partition_key=source.partition_key,
        run_id=run_id,
        tags={**run_tags_for(source, trigger=trigger, uses_gpu=uses_gpu), **process_tags()},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    if not result.success:
        raise PipelineFailedError(first_failure(result))
    return result


def first_failure(result: ExecuteInProcessResult) -> str:
    """'<step>: <reason>' of the first failed step (Failure descriptions are already one line)."""
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            error = data.error
            reason = (data.user_failure_data.description if data.user_failure_data else None) or (
                _innermost_message(error) if error else "failed"
            )
            return f"{event.step_key}: {reason}"
    return "run failed"


def _innermost_message(error) -> str:
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[-1]


def export_clips(storage: StorageResource, source: SourceRef, out_dir: Path) -> dict:
    """Copy the rendered clips into ``out_dir`` as clip_NN.mp4 (with clip_NN.jpg and clip_NN.srt) and write
    ``clips.json``; return the manifest."""
    rendered = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for clip in rendered.clips:
        name = f"clip_{clip.rank:02d}.mp4"
        with storage.local_path(clip.video_key) as video:
            shutil.copyfile(video, out_dir / name)
        with storage.local_path(clip.thumbnail_key) as thumbnail:
            shutil.copyfile(thumbnail, out_dir / f"clip_{clip.rank:02d}.jpg")
        (out_dir / f"clip_{clip.rank:02d}.srt").write_text(clip_subtitles(clip, "srt"), encoding="utf-8")
        clips.append(
            {
                "rank": clip.rank,
                "file": name,
                "start_s": round(clip.start_s, 3),
                "end_s": round(clip.end_s, 3),
                "score": round(clip.score, 4),
                "scores": {name: round(value, 4) for name, value in clip.scores.items()},
                "reason": clip.reason,
                "title": clip.title,
                "hook": clip.writing.hook,
                "hashtags": clip.writing.hashtags,
                "captions": clip.writing.post_captions,  # per platform, hashtags added when posting
                "words": [w.model_dump(include={"word", "start_s", "end_s"}) for w in clip.words],
            }
        )
    manifest = {
        "source": {
            "partition": source.partition_key,
            "duration_s": round(rendered.duration_s, 3),
            "language": rendered.language,
        },
        "clips": clips,
    }
    temp = out_dir / f".{MANIFEST_NAME}.tmp"
    temp.write_text(json.dumps(manifest, indent=2))
    temp.replace(out_dir / MANIFEST_NAME)
    return manifest
