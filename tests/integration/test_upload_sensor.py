"""source_video_upload_sensor on a real local folder and on moto's S3 server, through build_sensor_context."""

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance, SensorResult, build_sensor_context, instance_for_test

from clipped.inbox.naming import name_hash
from clipped.layout import RENDERED_CLIPS_FILE, REQUEST_FILE
from clipped.render_manifest import RenderedClipsManifest
from clipped.run_tags import GPU_TAG, TRIGGER_TAG, WORKSPACE_TAG
from clipped.sources import SourceRequest
from clipped_assets.partitions import source_video_partitions
from clipped_resources.asr import FasterWhisperAsr
from clipped_resources.inbox import UploadInbox
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.s3_storage import S3Storage
from clipped_resources.storage import LocalStorage, StorageResource
from clipped_sensors.upload import source_video_upload_sensor
from tests.conftest import SAMPLE, ClippedEnv, make_video
from tests.support.s3_server import S3Bucket

WS = "acme"


@dataclass
class Inbox:
    """A storage backend plus the raw ways a user or uploader puts files in its inbox."""

    storage: StorageResource
    instance: DagsterInstance
    backend: str
    root: Path | None = None  # local only
    cursor: str | None = None

    def drop(self, name: str, data: bytes, *, workspace: str = WS) -> str:
        key = f"{workspace}/inbox/{name}"
        if self.root is not None:
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)  # a plain, non-atomic write, like a user's copy
        else:
            self.storage.s3_client().put_object(Bucket=self.storage.bucket, Key=key, Body=data)
        return key

    def tick(self, inbox: UploadInbox | None = None) -> SensorResult:
        """One sensor evaluation; then what the daemon would do with its partitions and cursor."""
        inbox = inbox or UploadInbox(workspaces=[WS], min_stable_s=0)
        context = build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={
                "storage": self.storage,
                "inbox": inbox,
                "ingest": IngestPolicy(),
                "asr": FasterWhisperAsr(device="cpu"),
            },
        )
        result = source_video_upload_sensor(context)
        assert isinstance(result, SensorResult)
        for request in result.dynamic_partitions_requests:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursor = result.cursor
        return result


@pytest.fixture(params=["local", "s3"])
def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Inbox]:
    with instance_for_test() as instance:
        if request.param == "local":
            root = tmp_path / "storage"
            yield Inbox(LocalStorage(root=str(root)), instance, "local", root=root)
        else:
            bucket: S3Bucket = request.getfixturevalue("s3_bucket")
            storage = S3Storage(bucket=bucket.name, endpoint_url=bucket.endpoint_url, work_dir=str(tmp_path / "work"))
            yield Inbox(storage, instance, "s3")


@pytest.fixture(scope="module")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("media") / "small.mp4", seconds=3).read_bytes()


def test_incomplete_upload_waits_then_one_partition_and_one_run(inbox: Inbox, small_video: bytes) -> None:
    key = f"{WS}/inbox/talk.mp4"
    if inbox.root is not None:  # a copy in progress: half the bytes, then the rest
        inbox.drop("talk.mp4", small_video[: len(small_video) // 2])
        assert inbox.tick().run_requests == []
        inbox.drop("talk.mp4", small_video)
    else:  # a multipart upload in progress is invisible until it completes
        client = inbox.storage.s3_client()
        upload = client.create_multipart_upload(Bucket=inbox.storage.bucket, Key=key)
        part = client.upload_part(
            Bucket=inbox.storage.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=small_video
        )
        assert inbox.tick().run_requests == []
        client.complete_multipart_upload(
            Bucket=inbox.storage.bucket,
            Key=key,
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
    assert inbox.tick().run_requests == [], "just completed: not yet seen unchanged across two ticks"

    result = inbox.tick()
    [run] = result.run_requests
    partition = run.partition_key
    assert partition.startswith(f"{WS}.talk-") and run.run_key == partition
    assert GPU_TAG not in run.tags  # transcription on the CPU: no GPU slot in the queue
    assert run.tags[WORKSPACE_TAG] == WS and run.tags[TRIGGER_TAG] == "sensor"
    assert list(result.dynamic_partitions_requests[0].partition_keys) == [partition]
    video_id = partition.split(".", 1)[1]
    request = inbox.storage.read_model(f"{WS}/sources/{video_id}/{REQUEST_FILE}", SourceRequest)
    assert request.kind == "upload" and request.location == f"{WS}/sources/{video_id}/upload.mp4"
    assert inbox.storage.read_bytes(request.location) == small_video

    again = inbox.tick()
    assert again.run_requests == [] and again.dynamic_partitions_requests == []
    assert not inbox.storage.exists(key), "a claimed file leaves the inbox once its claim is committed"
    assert inbox.storage.read_bytes(request.location) == small_video

    # The same content under another name, marked complete: recognised by its hash, not run again.
    inbox.drop("talk-copy.mp4", small_video)
    inbox.drop("talk-copy.mp4.done", b"")
    duplicate = inbox.tick()
    assert duplicate.run_requests == []
    reason = inbox.storage.read_json(f"{WS}/quarantine/talk-copy.mp4.reason.json")
    assert reason["code"] == "duplicate" and partition in reason["reason"]
    assert inbox.storage.read_bytes(f"{WS}/quarantine/talk-copy.mp4") == small_video
    assert inbox.storage.list_keys(f"{WS}/inbox") == []
    assert inbox.instance.get_dynamic_partitions(source_video_partitions.name) == [partition]


def test_bad_files_go_to_quarantine_with_a_reason_and_their_bytes(
    inbox: Inbox, small_video: bytes, tmp_path: Path
) -> None:
    silent_free = make_video(tmp_path / "no_audio.mp4", seconds=2, audio=None).read_bytes()
    bad = {
        "notes.txt": (b"meeting notes", "bad_extension"),
        "empty.mp4": (b"", "empty"),
        "fake.mp4": (b"this is not a video at all" * 50, "invalid_media"),
        "truncated.mp4": (small_video[:2000], "invalid_media"),
        "no_audio.mp4": (silent_free, "invalid_media"),
    }
    for name, (data, _) in bad.items():
        inbox.drop(name, data)
        inbox.drop(name + ".done", b"")  # marked complete: taken on the first tick
    result = inbox.tick(UploadInbox(workspaces=[WS], min_stable_s=0, max_files_per_tick=10))
    assert result.run_requests == []
    for name, (data, code) in bad.items():
        assert inbox.storage.read_bytes(f"{WS}/quarantine/{name}") == data, name
        reason = inbox.storage.read_json(f"{WS}/quarantine/{name}.reason.json")
        assert reason["code"] == code, (name, reason)
        assert reason["inbox_key"] == f"{WS}/inbox/{name}" and reason["reason"]
    assert "no audio track" in inbox.storage.read_json(f"{WS}/quarantine/no_audio.mp4.reason.json")["reason"]
    assert inbox.storage.list_keys(f"{WS}/inbox") == []
    assert inbox.instance.get_dynamic_partitions(source_video_partitions.name) == []


def test_oversized_file_is_quarantined_unread_and_other_workspaces_are_not_watched(
    inbox: Inbox, small_video: bytes
) -> None:
    inbox.drop("big.mp4", small_video)
    inbox.drop("big.mp4.done", b"")
    inbox.drop("theirs.mp4", small_video, workspace="other")
    inbox.drop("theirs.mp4.done", b"", workspace="other")
    result = inbox.tick(UploadInbox(workspaces=[WS], min_stable_s=0, max_upload_bytes=1000))
    assert result.run_requests == []
    assert inbox.storage.read_json(f"{WS}/quarantine/big.mp4.reason.json")["code"] == "too_large"
    assert inbox.storage.list_keys("other") == ["other/inbox/theirs.mp4", "other/inbox/theirs.mp4.done"]


def test_odd_names_settle_like_any_file_before_they_are_renamed(tmp_path: Path, small_video: bytes) -> None:
    root = tmp_path / "storage"
    with instance_for_test() as instance:
        local = Inbox(LocalStorage(root=str(root)), instance, "local", root=root)
        local.drop("my talk.mp4", small_video)
        slow = UploadInbox(workspaces=[WS], min_stable_s=3600)
        assert local.tick(slow).run_requests == []
        assert local.tick(slow).run_requests == [], "unchanged, but not for min_stable_s yet"
        assert (root / WS / "inbox" / "my talk.mp4").read_bytes() == small_video
        assert local.tick(UploadInbox(workspaces=[WS], min_stable_s=0)).run_requests == []
        assert (root / WS / "inbox" / "my-talk.mp4").read_bytes() == small_video
        assert not (root / WS / "inbox" / "my talk.mp4").exists()
        assert len(local.tick(UploadInbox(workspaces=[WS], min_stable_s=0)).run_requests) == 1


@pytest.fixture(scope="module")
def other_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("media") / "other.mp4", seconds=2).read_bytes()


def test_names_with_spaces_parentheses_and_unicode_become_partitions(
    inbox: Inbox, small_video: bytes, other_video: bytes
) -> None:
    inbox.drop("My Stream (Nov 20).mp4", small_video)
    inbox.drop("Café Ünïcode 日本.MP4", other_video)
    assert inbox.tick().run_requests == [], "first seen: settling"
    assert inbox.tick().run_requests == [], "settled: renamed, taken on a later tick"
    assert sorted(inbox.storage.list_keys(f"{WS}/inbox")) == [
        f"{WS}/inbox/cafe-unicode.mp4",
        f"{WS}/inbox/my-stream-nov-20.mp4",
    ]
    result = inbox.tick()
    partitions = sorted(run.partition_key for run in result.run_requests)
    assert len(partitions) == 2
    assert partitions[0].startswith(f"{WS}.cafe-unicode-") and partitions[1].startswith(f"{WS}.my-stream-nov-20-")
    video_id = partitions[1].split(".", 1)[1]
    request = inbox.storage.read_model(f"{WS}/sources/{video_id}/{REQUEST_FILE}", SourceRequest)
    assert request.display_name == "My Stream (Nov 20)", "people see the name they gave the file"
    assert inbox.storage.read_bytes(request.location) == small_video
    inbox.tick()
    assert inbox.storage.list_keys(f"{WS}/inbox") == []
    assert sorted(inbox.instance.get_dynamic_partitions(source_video_partitions.name)) == partitions


def test_a_marker_beside_an_odd_name_is_renamed_with_it(inbox: Inbox, small_video: bytes) -> None:
    inbox.drop("Keynote (final).mp4", small_video)
    inbox.drop("Keynote (final).mp4.done", b"")
    slow = UploadInbox(workspaces=[WS], min_stable_s=3600)
    assert inbox.tick(slow).run_requests == []
    assert inbox.storage.list_keys(f"{WS}/inbox") == [
        f"{WS}/inbox/keynote-final.mp4",
        f"{WS}/inbox/keynote-final.mp4.done",
    ]
    [run] = inbox.tick(slow).run_requests
    assert run.partition_key.startswith(f"{WS}.keynote-final-")


def test_a_safe_name_already_taken_gets_a_hash_of_the_original_name(inbox: Inbox, small_video: bytes) -> None:
    inbox.drop("Talk!.mp4", small_video)
    inbox.drop("TALK?.mp4", b"another")
    inbox.tick(UploadInbox(workspaces=[WS], min_stable_s=3600))
    inbox.drop("talk.mp4", b"not a video, but it holds the name")  # still settling on the next tick
    inbox.tick(UploadInbox(workspaces=[WS], min_stable_s=0))
    keys = inbox.storage.list_keys(f"{WS}/inbox")
    assert keys == sorted(
        [
            f"{WS}/inbox/talk.mp4",
            f"{WS}/inbox/talk-{name_hash('Talk!.mp4')}.mp4",
            f"{WS}/inbox/talk-{name_hash('TALK?.mp4')}.mp4",
        ]
    )
    assert inbox.storage.read_bytes(f"{WS}/inbox/talk.mp4") == b"not a video, but it holds the name"
    assert inbox.storage.read_bytes(f"{WS}/inbox/talk-{name_hash('Talk!.mp4')}.mp4") == small_video
    assert inbox.storage.read_bytes(f"{WS}/inbox/talk-{name_hash('TALK?.mp4')}.mp4") == b"another"


def test_a_name_with_nothing_usable_is_quarantined_with_the_original_name(inbox: Inbox) -> None:
    inbox.drop("🎬🎥", b"some bytes")
    inbox.drop("(((.done", b"")  # a marker with nothing beside it: left alone
    inbox.tick()
    inbox.tick()
    target = f"{WS}/quarantine/unnamed-{name_hash('🎬🎥')}"
    assert inbox.storage.read_bytes(target) == b"some bytes"
    reason = inbox.storage.read_json(target + ".reason.json")
    assert reason["code"] == "bad_name" and reason["original_name"] == "🎬🎥"
    assert reason["inbox_key"] == f"{WS}/inbox/🎬🎥" and reason["size_bytes"] == 10
    assert inbox.storage.list_objects(f"{WS}/inbox")[0].key == f"{WS}/inbox/(((.done"


def test_a_renamed_file_that_is_refused_keeps_its_original_name_in_the_reason(inbox: Inbox) -> None:
    inbox.drop("Meeting Notes.txt", b"notes")
    inbox.tick()
    inbox.tick()
    inbox.tick()
    reason = inbox.storage.read_json(f"{WS}/quarantine/meeting-notes.txt.reason.json")
    assert reason["code"] == "bad_extension" and reason["original_name"] == "Meeting Notes.txt"
    assert inbox.storage.read_bytes(f"{WS}/quarantine/meeting-notes.txt") == b"notes"


def test_traversal_looking_names_are_never_used_as_paths(inbox: Inbox, tmp_path: Path) -> None:
    inbox.drop("x\\..\\..\\evil.mp4", b"dropped with backslashes")
    inbox.drop("..\\..\\hidden.mp4", b"a leading dot: hidden, ignored")
    if inbox.root is not None:
        secret = tmp_path / "secret.mp4"
        secret.write_bytes(b"secret")
        (inbox.root / WS / "inbox" / "Link (1).mp4").symlink_to(secret)
        (inbox.root / WS / "inbox" / "Odd Folder").mkdir()
        (inbox.root / WS / "inbox" / "Odd Folder" / "a.mp4").write_bytes(b"in an odd folder")
        left = {f"{WS}/inbox/Link (1).mp4", f"{WS}/inbox/Odd Folder/a.mp4"}
    else:
        inbox.drop("../../escape.mp4", b"a key with dot-dot segments")
        inbox.drop("../.. /x.mp4", b"another")
        left = {f"{WS}/inbox/../../escape.mp4", f"{WS}/inbox/../.. /x.mp4"}
    for _ in range(3):
        inbox.tick()
    assert inbox.storage.read_bytes(f"{WS}/quarantine/x-evil.mp4") == b"dropped with backslashes"
    reason = inbox.storage.read_json(f"{WS}/quarantine/x-evil.mp4.reason.json")
    assert reason["original_name"] == "x\\..\\..\\evil.mp4"
    left.add(f"{WS}/inbox/..\\..\\hidden.mp4")
    assert {info.key for info in inbox.storage.list_objects(f"{WS}/inbox")} == left, "refused names stay untouched"
    if inbox.root is not None:
        assert secret.read_bytes() == b"secret"
        assert sorted(path.name for path in tmp_path.iterdir()) == ["secret.mp4", "storage"]
    else:
        keys = [
            item["Key"] for item in inbox.storage.s3_client().list_objects_v2(Bucket=inbox.storage.bucket)["Contents"]
        ]
        assert all(key.startswith(f"{WS}/") for key in keys)


def test_a_name_that_is_not_utf8_is_renamed_and_the_cursor_still_saves(tmp_path: Path, small_video: bytes) -> None:
    root = tmp_path / "storage"
    with instance_for_test() as instance:
        local = Inbox(LocalStorage(root=str(root)), instance, "local", root=root)
        folder = root / WS / "inbox"
        folder.mkdir(parents=True)
        (folder / os.fsdecode(b"caf\xe9 talk.mp4")).write_bytes(small_video)  # a Latin-1 name on a UTF-8 system
        local.tick()
        local.tick()
        assert (folder / "caf-talk.mp4").read_bytes() == small_video
        [run] = local.tick().run_requests
        assert run.partition_key.startswith(f"{WS}.caf-talk-")


@pytest.mark.slow
@pytest.mark.xdist_group("full_pipeline")
def test_sensor_run_request_launched_in_process_renders_clips(clipped_env: ClippedEnv) -> None:
    from definitions import build_definitions

    defs = build_definitions("local")
    storage = defs.resources["storage"]
    inbox_folder = clipped_env.home / "storage" / "local" / "inbox"
    inbox_folder.mkdir(parents=True)
    shutil.copyfile(SAMPLE, inbox_folder / "keynote.mp4")
    (inbox_folder / "keynote.mp4.done").write_bytes(b"")

    context = build_sensor_context(
        instance=clipped_env.instance,
        resources={
            "storage": storage,
            "inbox": UploadInbox(workspaces=["local"], max_clips=1),
            "ingest": IngestPolicy(),
            "asr": FasterWhisperAsr(device="cpu"),
        },
    )
    result = source_video_upload_sensor(context)
    [run] = result.run_requests
    for request in result.dynamic_partitions_requests:
        clipped_env.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))

    job = defs.resolve_job_def("clip_job")
    outcome = job.execute_in_process(instance=clipped_env.instance, partition_key=run.partition_key, tags=run.tags)
    assert outcome.success
    dagster_run = clipped_env.instance.get_run_by_id(outcome.run_id)
    assert dagster_run.tags[TRIGGER_TAG] == "sensor" and dagster_run.tags["dagster/partition"] == run.partition_key

    video_id = run.partition_key.split(".", 1)[1]
    manifest = storage.read_model(f"local/sources/{video_id}/{RENDERED_CLIPS_FILE}", RenderedClipsManifest)
    assert len(manifest.clips) == 1
    clip = manifest.clips[0]
    assert storage.size(clip.video_key) > 10_000 and storage.exists(clip.thumbnail_key)
    # The hash the sensor deduplicated on is the one ingest measured on the bytes it processed.
    info = json.loads(storage.read_bytes(f"local/sources/{video_id}/source.json"))
    assert storage.exists(f"local/uploads/by-content/{info['content_sha256']}.json")
