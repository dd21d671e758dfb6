"""`clipped`: run the pipeline on a file or URL, or open the Dagster UI on the same instance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from dagster import AssetMaterialization, DagsterInstance, MultiPartitionKey
from rich.console import Console
from rich.table import Table

from api.app import create_app
from clipped.ingest.url_policy import DisallowedUrlError
from clipped.layout import DEFAULT_WORKSPACE
from clipped.live.chat import ChatReplay
from clipped.live.layout import LIVE_MOMENT_PARTITIONS, LIVE_STREAM_PARTITIONS, StreamRef
from clipped.live.models import LiveClip, Moment, SegmentAnalysis, SegmentRecord, StreamHealth, StreamRecord
from clipped.live.service import StreamLimitError, StreamNotFoundError
from clipped.live.session import LiveSession
from clipped.publish.grants import reseal_all_grants
from clipped.publish.token_vault import TokenVault, VaultKeyError
from clipped.stages import CLIP_JOB_STEPS
from clipped.types import Aspect, ClipSettings
from clipped_app.instance import dagster_home, local_instance
from clipped_app.pipeline import PipelineFailedError, check_source, export_clips, register_source, run_clip_job
from clipped_app.step_display import StepDisplay
from definitions import build_definitions

app = typer.Typer(add_completion=False, help="Clipped: long video in, short vertical clips out.")
keys = typer.Typer(add_completion=False, help="Encryption keys of connected accounts' platform tokens.")
app.add_typer(keys, name="keys")
console = Console(stderr=True)


@app.command()
def run(
    source: Annotated[str, typer.Argument(help="A video file, or an https URL on the allowlist")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the clips and clips.json")] = Path("clips"),
    max_clips: Annotated[int, typer.Option(min=1, max=50)] = 5,
    min_duration: Annotated[float, typer.Option(help="Shortest clip, seconds")] = 15.0,
    max_duration: Annotated[float, typer.Option(help="Longest clip, seconds")] = 90.0,
    aspect: Annotated[str, typer.Option(help="9:16, 1:1 or 16:9")] = "9:16",
    language: Annotated[str | None, typer.Option(help="Spoken language (default: detect)")] = None,
    asr_model: Annotated[str | None, typer.Option(help="faster-whisper model name or path")] = None,
    profile: Annotated[str | None, typer.Option(help="Resource profile: local or prod")] = None,
    workspace: Annotated[str, typer.Option(help="Workspace id (storage prefix)")] = DEFAULT_WORKSPACE,
) -> None:
    """Process one video end to end and write the best clips to --out."""
    if aspect not in Aspect.__args__:  # type: ignore[attr-defined]
        raise typer.BadParameter(f"aspect must be one of {', '.join(Aspect.__args__)}")  # type: ignore[attr-defined]
    if min_duration >= max_duration:
        raise typer.BadParameter("--min-duration must be below --max-duration")
    # A person running the CLI may name any file they can read: its folder becomes an allowed root for this run.
    extra_roots = [] if "://" in source else [str(Path(source).expanduser().resolve().parent)]
    settings = ClipSettings(
        max_clips=max_clips,
        min_duration_s=min_duration,
        max_duration_s=max_duration,
        aspect=aspect,  # type: ignore[arg-type]
        language=language,
    )
    defs = build_definitions(profile, asr_model=asr_model, extra_allowed_roots=extra_roots)
    storage = defs.resources["storage"]
    try:  # before anything is registered: a refused source leaves no partition and no failed run behind
        check_source(defs.resources["ingest"], source)
    except ValueError as exc:
        _fail(str(exc))
    instance = local_instance()
    try:
        ref = register_source(storage, instance, source, settings, workspace)
    except ValueError as exc:
        _fail(str(exc))
    console.print(f"[bold]partition[/] {ref.partition_key}")
    failure = None
    with StepDisplay(CLIP_JOB_STEPS) as display:
        try:
            run_clip_job(defs, instance, ref, log_level="CRITICAL")
            display.finish_all()
        except PipelineFailedError as exc:
            failure = str(exc)
    if failure:
        _fail(failure)
    manifest = export_clips(storage, ref, out)
    _print_clips(manifest, out)


DAGSTER_DEV_SUPERSEDED = "Function `dev_command` is superseded"
KEEP_ALIVE_S = 75  # as nginx, in front of the service in most deployments


@app.command()
def ui(port: Annotated[int, typer.Option()] = 3000) -> None:
    """Open the Dagster UI (dagster dev) on the same instance `clipped run` writes to."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home())}
    root = Path(__file__).resolve().parent.parent
    # `dagster dev` warns that it is superseded by `dg dev`, which needs a dg project layout this repository does
    # not use; the warning is nothing a user of `clipped ui` can act on, so only that message is ignored.
    quiet = ["-W", f"ignore:{DAGSTER_DEV_SUPERSEDED}"]
    workspace = ["-w", str(root / "workspace.yaml"), "-p", str(port)]
    command = [sys.executable, *quiet, "-m", "dagster", "dev", *workspace]
    raise typer.Exit(subprocess.call(command, env=env, cwd=root))


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Start the review API and web app (migrations run first) on the same instance and storage."""
    # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default: the app does it itself, and only for the
    # proxies in CLIPPED_API_TRUSTED_PROXIES (api.app.install_guards).
    # An idle keep-alive connection is kept longer than clients keep theirs (httpx 5 s, uvicorn's default too): at
    # equal times a client reusing a connection just as the server closed it got a connection error
    # (bench/load_api.py).
    uvicorn.run(create_app(), host=host, port=port, proxy_headers=False, timeout_keep_alive=KEEP_ALIVE_S)


@app.command()
def stream(
    url: Annotated[
        str | None, typer.Argument(help="A live stream: a channel on the allowlist, or an http(s) .m3u8")
    ] = None,
    workspace: Annotated[str, typer.Option(help="Workspace id (storage prefix)")] = DEFAULT_WORKSPACE,
    max_minutes: Annotated[float | None, typer.Option(help="Stop after this many minutes of stream")] = None,
    keyword: Annotated[
        list[str] | None, typer.Option("--keyword", help="A word or phrase that marks a moment (repeatable)")
    ] = None,
    chat: Annotated[
        Path | None, typer.Option(help="Chat replay: JSON lines with t_s (stream s) or ts (Unix s)")
    ] = None,
    asr_model: Annotated[str | None, typer.Option(help="faster-whisper model name or path")] = None,
    profile: Annotated[str | None, typer.Option(help="Resource profile: local or prod")] = None,
    stream_id: Annotated[
        str | None, typer.Option("--stream-id", help="Record a stream already started (how the service runs recorders)")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Print moments and clips only")] = False,
) -> None:
    """Record a live stream, find its moments as they happen and render each as a clip, until it ends or Ctrl-C."""
    defs = build_definitions(profile, asr_model=asr_model)
    storage, streams, ingest = defs.resources["storage"], defs.resources["streams"], defs.resources["ingest"]
    service = streams.service(storage, ingest.allowed_domains)
    try:
        if stream_id:
            record = service.record(workspace, stream_id)
        elif url:
            settings = streams.stream_settings(max_minutes=max_minutes, keywords=keyword)
            record = service.register(workspace, url, settings=settings, chat_jsonl=chat.read_text() if chat else None)
        else:
            raise typer.BadParameter("give a stream URL (or --stream-id of a started stream)")
    except (DisallowedUrlError, StreamLimitError, StreamNotFoundError, OSError) as exc:
        _fail(str(exc) if not isinstance(exc, StreamNotFoundError) else f"no stream {stream_id} in {workspace}")
    ref = StreamRef(record.workspace_id, record.stream_id)
    reporter = _LiveReporter(local_instance(), record, quiet=quiet)
    replay = ChatReplay.parse(storage.read_bytes(record.chat_key).decode()) if record.chat_key else None
    session = LiveSession(
        storage, record, opener=streams.opener(ingest.allowed_domains), asr=defs.resources["asr"],
        encoder=streams.live_encoder(defs.resources["render"]), work_dir=streams.scratch() / ref.partition_key,
        listener=reporter, chat=replay, faces=defs.resources["vision"],
    )  # fmt: skip

    def stop(_signum: int, _frame: object) -> None:
        console.print("[bold]stopping[/]: finishing the segment in progress and the clips already found")
        session.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C interrupts at once

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    console.print(f"[bold]stream[/] {ref.partition_key} ← {record.url}")
    result = session.run()
    reporter.on_health(result.health)
    health = result.health
    console.print(
        f"[bold]{health.state}[/] after {_clock(health.live_edge_s)} of stream: {len(result.moments)} moments, "
        f"{len(result.clips)} clips, {health.gaps} gaps ({health.gap_s:.1f} s), {health.stalls} stalls, "
        f"{health.reconnects} reconnects" + (f"; {health.error}" if health.error else "")
    )
    if health.state == "failed":
        raise typer.Exit(1)


class _LiveReporter:
    """Prints a live session's moments and clips as they happen and reports them to the Dagster instance
    (stream_segments every 30 s of stream, live_clips per clip), so `clipped ui` shows them with lineage."""

    REPORT_EVERY_S = 30.0

    def __init__(self, instance: DagsterInstance, record: StreamRecord, *, quiet: bool) -> None:
        self.instance = instance
        self.stream = StreamRef(record.workspace_id, record.stream_id)
        self.quiet = quiet
        self.reported_to_s = 0.0
        self.health: StreamHealth | None = None
        if not instance.has_dynamic_partition(LIVE_STREAM_PARTITIONS, self.stream.partition_key):
            instance.add_dynamic_partitions(LIVE_STREAM_PARTITIONS, [self.stream.partition_key])

    def on_segment(self, segment: SegmentRecord, analysis: SegmentAnalysis) -> None:
        if not self.quiet:
            said = " ".join(word.word for word in analysis.words)
            console.print(f"[dim]{_clock(segment.start_s)} {len(analysis.events)} events {said}[/]")
        if segment.end_s - self.reported_to_s >= self.REPORT_EVERY_S:
            self.reported_to_s = segment.end_s
            self._report_segments()

    def on_moment(self, moment: Moment) -> None:
        console.print(
            f"[bold yellow]moment[/] {moment.moment_id} at {_clock(moment.at_s)} score {moment.score:.2f}: "
            f"{moment.reason}"
        )

    def on_clip(self, clip: LiveClip) -> None:
        console.print(
            f"[bold green]clip[/] {clip.moment_id} {_clock(clip.start_s)}–{_clock(clip.end_s)} "
            f"in {clip.rendered_at - clip.detected_at:.1f} s: {clip.title} ({clip.video_key})"
        )
        if not self.instance.has_dynamic_partition(LIVE_MOMENT_PARTITIONS, clip.moment_id):
            self.instance.add_dynamic_partitions(LIVE_MOMENT_PARTITIONS, [clip.moment_id])
        partition = MultiPartitionKey({LIVE_STREAM_PARTITIONS: self.stream.partition_key,
                                       LIVE_MOMENT_PARTITIONS: clip.moment_id})  # fmt: skip
        self.instance.report_runless_asset_event(AssetMaterialization(
            asset_key="live_clips", partition=partition,
            metadata={"clip": clip.video_key, "start_s": round(clip.start_s, 2), "end_s": round(clip.end_s, 2),
                      "score": clip.score, "reason": clip.reason, "title": clip.title},
        ))  # fmt: skip

    def on_clip_failed(self, moment: Moment) -> None:
        console.print(f"[bold red]clip failed[/] {moment.moment_id}: {moment.error}")

    def on_health(self, health: StreamHealth) -> None:
        if self.health is not None and health.state != self.health.state and not self.quiet:
            console.print(f"[bold]{health.state}[/] at {_clock(health.live_edge_s)}" +
                          (f": {health.error}" if health.error else ""))  # fmt: skip
        self.health = health
        if health.state not in ("starting", "recording", "stalled", "reconnecting"):
            self._report_segments()

    def _report_segments(self) -> None:
        metadata = self.health.summary() if self.health else {}
        self.instance.report_runless_asset_event(AssetMaterialization(
            asset_key="stream_segments", partition=self.stream.partition_key, metadata=metadata,
        ))  # fmt: skip


def _print_clips(manifest: dict, out: Path) -> None:
    table = Table(title=f"{len(manifest['clips'])} clips from {manifest['source']['partition']}")
    for column in ("rank", "start–end", "duration", "score", "title", "file"):
        table.add_column(column)
    for clip in manifest["clips"]:
        table.add_row(
            str(clip["rank"]),
            f"{_clock(clip['start_s'])}–{_clock(clip['end_s'])}",
            f"{clip['end_s'] - clip['start_s']:.1f}s",
            f"{clip['score']:.2f}",
            clip["title"],
            str(out / clip["file"]),
        )
    Console().print(table)


@keys.command("new")
def new_key() -> None:
    """Print a new token key: put it first in CLIPPED_TOKEN_KEYS (comma-separated), keep the old ones, then rotate."""
    typer.echo(TokenVault.new_key())


@keys.command("rotate")
def rotate_keys(
    profile: Annotated[str | None, typer.Option(help="Resource profile: local or prod")] = None,
) -> None:
    """Re-encrypt every stored platform token with the first key; afterwards the old keys can be removed."""
    publisher = build_definitions(profile).resources["publisher"]
    try:
        count = reseal_all_grants(publisher.store(), publisher.vault())
    except VaultKeyError as exc:
        _fail(str(exc))
    console.print(f"re-encrypted {count} account tokens with the newest key")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):d}:{rest:05.2f}"


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


if __name__ == "__main__":
    app()
