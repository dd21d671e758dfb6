"""A run killed with SIGKILL leaves nothing behind: no ffmpeg encoding on, temps swept by the next run, the run
itself marked failed when the instance is next opened."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dagster import DagsterEvent, DagsterEventType, DagsterInstance, DagsterRunStatus, instance_for_test, job, op

from clipped.media.ffmpeg import ffmpeg_exe
from clipped_app.instance import HOST_TAG, PID_STARTED_TAG, PID_TAG, fail_orphaned_runs, process_tags
from clipped_resources.s3_storage import S3Storage
from clipped_resources.storage import LocalStorage, WriterProcess
from tests.conftest import copy_sample
from tests.support.s3_server import S3Bucket

pytestmark = [pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")]
CLIPPED = Path(sys.executable).parent / "clipped"


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain ``text`` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline[:300]}")
    return found


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def kill_group() -> Iterator[list[subprocess.Popen]]:
    """Processes the test starts in their own session; whatever is left of them is killed at the end."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_ffmpeg_dies_with_the_process_that_runs_it(tmp_path: Path, kill_group: list[subprocess.Popen]) -> None:
    marker = tmp_path / f"never-finished-{uuid.uuid4().hex[:8]}.mp4"
    script = (
        "import sys; from clipped.media.ffmpeg import run_ffmpeg; "
        "run_ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=600', '-c:v', 'libx264', "
        "'-preset', 'ultrafast', sys.argv[1]])"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(marker)], start_new_session=True)
    kill_group.append(parent)
    wait_for(lambda: any(ffmpeg_exe() in line for line in processes_mentioning(str(marker))), 60, "ffmpeg to start")
    parent.kill()
    parent.wait()
    wait_for(lambda: not processes_mentioning(str(marker)), 5, "ffmpeg to die with its parent")


def test_a_killed_render_leaves_no_encoder_and_the_next_run_cleans_up(
    tmp_path: Path, kill_group: list[subprocess.Popen]
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    video = copy_sample(media)
    home, dagster_home, out = tmp_path / "home", tmp_path / "dagster_home", tmp_path / "clips"
    env = {
        **os.environ,
        "CLIPPED_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "CLIPPED_ALLOWED_ROOTS": str(media),
    }
    command = [str(CLIPPED), "run", str(video), "--max-clips", "2", "--out", str(out)]
    storage_root = str(home / "storage")

    first = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    kill_group.append(first)

    def rendering() -> bool:
        if first.poll() is not None:
            raise AssertionError(f"clipped run ended before rendering: {first.stderr.read()[-2000:]}")
        return any(".clip.tmp-" in line for line in processes_mentioning(storage_root))

    wait_for(rendering, 420, "rendered_clips to start encoding")
    time.sleep(1.0)
    first.kill()  # SIGKILL to `clipped run` alone, not to its process group
    first.wait()

    wait_for(lambda: not processes_mentioning(storage_root), 5, "every ffmpeg of the killed run to die")
    temps = sorted(path for path in (home / "storage").rglob("*") if ".tmp-" in path.name)
    assert any(path.name.startswith(".clip.tmp-") for path in temps), temps
    instance = DagsterInstance.from_config(str(dagster_home))
    [killed] = instance.get_runs()
    assert killed.status == DagsterRunStatus.STARTED and killed.tags[PID_TAG] == str(first.pid)

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert not [path for path in (home / "storage").rglob("*") if ".tmp-" in path.name]
    assert json.loads((out / "clips.json").read_text())["clips"]
    instance = DagsterInstance.from_config(str(dagster_home))
    statuses = {run.run_id: run.status for run in instance.get_runs()}
    assert statuses.pop(killed.run_id) == DagsterRunStatus.FAILURE
    assert list(statuses.values()) == [DagsterRunStatus.SUCCESS]


# -- the pieces ----------------------------------------------------------------------------------------------


@op
def _nothing() -> None:
    pass


@job
def _a_job() -> None:
    _nothing()


def _started_run(instance: DagsterInstance, tags: dict[str, str]) -> str:
    run = instance.create_run_for_job(_a_job, tags=tags)
    instance.report_dagster_event(DagsterEvent(DagsterEventType.RUN_START.value, job_name=_a_job.name), run.run_id)
    return run.run_id


def test_only_runs_of_dead_processes_of_this_host_are_failed() -> None:
    mine = process_tags()
    with instance_for_test() as instance:
        alive = _started_run(instance, mine)
        dead = _started_run(instance, {**mine, PID_TAG: str(dead_pid())})
        reused = _started_run(instance, {**mine, PID_STARTED_TAG: str(int(mine[PID_STARTED_TAG]) + 1)})
        elsewhere = _started_run(instance, {**mine, HOST_TAG: "000000", PID_TAG: str(dead_pid())})
        untagged = _started_run(instance, {})
        assert sorted(fail_orphaned_runs(instance)) == sorted([dead, reused])
        status = {
            run_id: instance.get_run_by_id(run_id).status for run_id in (alive, dead, reused, elsewhere, untagged)
        }
        assert status == {
            alive: DagsterRunStatus.STARTED,
            dead: DagsterRunStatus.FAILURE,
            reused: DagsterRunStatus.FAILURE,  # the pid now belongs to another process
            elsewhere: DagsterRunStatus.STARTED,
            untagged: DagsterRunStatus.STARTED,
        }
        assert fail_orphaned_runs(instance) == []


def test_local_sweep_removes_temps_of_gone_writers_and_old_ones_only(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    with storage.writer("acme/clips/talk-1-01-abc/clip.mp4") as live:
        assert WriterProcess.from_name(live.name) == WriterProcess.current()
        live.write_bytes(b"being written")
        folder = live.parent
        gone = WriterProcess(WriterProcess.current().host, dead_pid(), 1).token
        foreign = WriterProcess("000000", 1, 1).token
        names = {
            "dead": f".captions.tmp-{gone}-0badf00d.ass",
            "foreign": f".thumbnail.tmp-{foreign}-0badf00d.jpg",
            "unnamed": ".clip.tmp-0badf00d.mp4",
            "object": "thumbnail.jpg",
        }
        for name in names.values():
            (folder / name).write_bytes(b"x")
        other_source = tmp_path / "acme/clips/talk-2-01-abc"
        other_source.mkdir(parents=True)
        (other_source / names["dead"]).write_bytes(b"x")

        removed = storage.sweep_temps("acme/clips/talk-1-")
        assert removed == [f"acme/clips/talk-1-01-abc/{names['dead']}"]
        assert live.exists() and (other_source / names["dead"]).exists()

        an_hour_ago = time.time() - 3600
        for name in ("foreign", "unnamed", "object"):
            os.utime(folder / names[name], (an_hour_ago, an_hour_ago))
        removed = storage.sweep_temps("acme/clips/talk-1-", older_than_s=1800)
        assert sorted(removed) == sorted(f"acme/clips/talk-1-01-abc/{names[n]}" for n in ("foreign", "unnamed"))
        assert (folder / names["object"]).exists() and live.exists()
    assert storage.exists("acme/clips/talk-1-01-abc/clip.mp4")


def test_s3_sweep_removes_abandoned_scratch_and_aborts_stale_multipart_uploads(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    storage = S3Storage(bucket=s3_bucket.name, endpoint_url=s3_bucket.endpoint_url, work_dir=str(tmp_path))
    client = s3_bucket.client()
    # moto dates every multipart upload in 2010: both are stale; only the one under the prefix goes.
    stale = client.create_multipart_upload(Bucket=s3_bucket.name, Key="acme/clips/talk-1-01-abc/clip.mp4")
    other = client.create_multipart_upload(Bucket=s3_bucket.name, Key="acme/clips/talk-2-01-abc/clip.mp4")
    gone = WriterProcess(WriterProcess.current().host, dead_pid(), 1).token
    abandoned = tmp_path / f"put-{gone}-x1y2z3"
    abandoned.mkdir()
    (abandoned / "out.mp4").write_bytes(b"half")
    with storage.writer("acme/clips/talk-1-01-abc/thumbnail.jpg") as live:
        live.write_bytes(b"jpeg")
        removed = storage.sweep_temps("acme/clips/talk-1-")
        assert live.exists() and not abandoned.exists()
    assert removed == [
        str(abandoned),
        f"s3://{s3_bucket.name}/acme/clips/talk-1-01-abc/clip.mp4 (upload {stale['UploadId']})",
    ]
    uploads = client.list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads", [])
    assert [upload["UploadId"] for upload in uploads] == [other["UploadId"]]
    assert storage.exists("acme/clips/talk-1-01-abc/thumbnail.jpg")
