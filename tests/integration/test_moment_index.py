"""moment_index for real: a source with words on screen and in its transcript, indexed through Dagster into LanceDB
(local folder), searched, cut into a moment clip (one real render), and removed; the store on S3 (moto)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from dagster import materialize

from clipped.layout import TRANSCRIPT_FILE, SourceRef
from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.inspect_clip import ClipInspection
from clipped.render.versions import version_output_keys
from clipped.search.moment_clip import plan_moment_clip, render_moment_clip
from clipped.search.moment_store import MomentRow, MomentStore
from clipped.search.moments import MOMENTS_FOLDER
from clipped.stage_record import StageRecord, save_record
from clipped.stages import SOURCE_VIDEO, TRANSCRIPT
from clipped.types import ClipSettings, Segment, Transcript, Word
from clipped_assets.search import moment_index
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import LocalStorage
from clipped_resources.vector_store import VectorStoreResource
from tests.conftest import ClippedEnv
from tests.support.rendered_source import SOURCE_SECONDS, seed_rendered_source
from tests.support.s3_server import S3Bucket

SOURCE = SourceRef("acme", "slides-0123456789")
SPOKEN = [
    "Good morning and welcome to the garden club.",  # 0.0–2.0 s
    "Tomatoes need six hours of sunlight every day.",  # 2.0–4.0 s
]


def slide_video(out: Path) -> Path:
    """The seeded source's length, a slide with large dark words on white, and a tone."""
    image = np.full((360, 640, 3), 255, np.uint8)
    cv2.putText(image, "QUARTERLY REVENUE", (40, 190), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 4)
    still = out.with_suffix(".png")
    cv2.imwrite(str(still), image)
    run_ffmpeg(
        [
            *["-loop", "1", "-i", str(still), "-f", "lavfi", "-i", f"sine=frequency=300:duration={SOURCE_SECONDS}"],
            *["-t", str(SOURCE_SECONDS), "-r", "25", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
            *["-c:a", "aac", "-shortest", str(out)],
        ]
    )
    return out


def seed_transcribed_source(storage: LocalStorage) -> None:
    seed_rendered_source(storage, SOURCE)  # info, scenes, faces, request (1–60 s clips), the source video
    with tempfile.TemporaryDirectory() as scratch:
        storage.put_file(slide_video(Path(scratch) / "slides.mp4"), SOURCE.key("source.mp4"))
    words = []
    for index, sentence in enumerate(SPOKEN):
        tokens = sentence.split()
        step = 2.0 / len(tokens)
        words += [
            Word(word=t, start_s=index * 2.0 + i * step, end_s=index * 2.0 + (i + 0.8) * step)
            for i, t in enumerate(tokens)
        ]
    transcript = Transcript(
        language="en",
        duration_s=SOURCE_SECONDS,
        model="seeded",
        segments=[Segment(start_s=0.0, end_s=4.0, text=" ".join(SPOKEN), words=words)],
    )
    storage.write_model(SOURCE.key(TRANSCRIPT_FILE), transcript)
    for stage, outputs in ((SOURCE_VIDEO, [SOURCE.key("source.mp4")]), (TRANSCRIPT, [SOURCE.key(TRANSCRIPT_FILE)])):
        save_record(storage, SOURCE, StageRecord(stage=stage.name, fingerprint=f"seeded-{stage.name}", outputs=outputs))


def test_a_source_is_indexed_searched_clipped_and_removed(clipped_env: ClippedEnv, tmp_path: Path) -> None:
    storage = LocalStorage(root=str(clipped_env.home / "storage"))
    seed_transcribed_source(storage)
    vector_store = VectorStoreResource(uri=str(tmp_path / "moments"), ocr_frames=2)
    clipped_env.instance.add_dynamic_partitions("source_video", [SOURCE.partition_key])

    result = materialize(
        [moment_index],
        partition_key=SOURCE.partition_key,
        instance=clipped_env.instance,
        resources={"storage": storage, "vector_store": vector_store},
    )

    metadata = result.asset_materializations_for_node("moment_index")[0].metadata
    assert (metadata["speech_moments"].value, metadata["ocr_frames"].value) == (2, 2)
    assert metadata["screen_moments"].value >= 1 and metadata["rows_in_store"].value >= 3
    thumbnails = storage.list_keys(SOURCE.key(MOMENTS_FOLDER))
    assert thumbnails and all(key.endswith(".jpg") and storage.size(key) > 0 for key in thumbnails)

    said = vector_store.search("acme", "how much sun does a tomato plant want", limit=3)[0]
    assert (said.kind, said.start_s, said.source) == ("speech", 2.0, SOURCE.partition_key)
    assert said.thumbnail_key in thumbnails
    shown = vector_store.search("acme", "revenue", limit=3)[0]
    assert shown.kind == "screen" and "REVENUE" in shown.text.upper()

    # "Make a clip from this moment": whole sentences around it, rendered into its own version folder.
    request = plan_moment_clip(
        SOURCE,
        storage.read_model(SOURCE.key(TRANSCRIPT_FILE), Transcript),
        ClipSettings(min_duration_s=3.0),
        said.start_s,
        said.end_s,
        "tomato sun",
    )
    assert (request.start_s, request.end_s) == (0.0, pytest.approx(3.95, abs=0.01))
    assert request.title.startswith("Good morning") and request.clip_id.startswith("moment-")
    clip = render_moment_clip(storage, RenderOptions(x264_preset="ultrafast"), SOURCE, request)
    assert all(storage.exists(key) for key in version_output_keys(request.ref(SOURCE)))
    seen = ClipInspection.model_validate(clip.inspection)
    assert (seen.width, seen.height) == (1080, 1920) and seen.duration_s == pytest.approx(3.95, abs=0.15)
    assert "tomato sun" in clip.reason and [w.word for w in clip.words][:2] == ["Good", "morning"]

    # Indexing again with the same inputs reuses everything; deleting the source's rows empties its search.
    again = materialize(
        [moment_index],
        partition_key=SOURCE.partition_key,
        instance=clipped_env.instance,
        resources={"storage": storage, "vector_store": vector_store},
    )
    assert again.success
    assert vector_store.store().delete_source("acme", SOURCE.partition_key) == metadata["rows_in_store"].value
    assert vector_store.search("acme", "tomatoes") == []


def test_the_moment_table_lives_on_s3(s3_bucket: S3Bucket) -> None:
    endpoint = s3_bucket.endpoint_url
    store = MomentStore(
        f"s3://{s3_bucket.name}", {"aws_endpoint": endpoint, "allow_http": "true", "aws_region": "us-east-1"}
    )
    vector = np.zeros(384, dtype=np.float32)
    vector[0] = 1.0
    row = MomentRow("acme.s3-1/speech/0", "acme.s3-1", "speech", 0.0, 2.0, "compost heaps need air", "", "k", vector)
    store.replace_source("acme", "acme.s3-1", [row])
    assert [hit.text for hit in store.search("acme", vector, "compost")] == ["compost heaps need air"]
    keys = [item["Key"] for item in s3_bucket.client().list_objects_v2(Bucket=s3_bucket.name)["Contents"]]
    assert keys and all(key.startswith("acme/moments/moments.lance/") for key in keys)
    assert store.delete_source("acme", "acme.s3-1") == 1 and store.count("acme") == 0
