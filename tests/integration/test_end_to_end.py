"""The spine end to end: `clipped run` on the bundled sample, checked from the outside."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest
from typer.testing import CliRunner

from clipped.layout import RENDERED_CLIPS_FILE, SourceRef
from clipped.media.ffmpeg import ffmpeg_identity
from clipped.render_manifest import RenderedClipsManifest
from clipped_app.cli import app
from clipped_resources.storage import LocalStorage
from tests.conftest import copy_sample

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("end_to_end")]


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One CLI run shared by the assertions below (it is the expensive part)."""
    work = tmp_path_factory.mktemp("e2e")
    media = work / "media"
    media.mkdir()
    video = copy_sample(media)
    env = {
        "CLIPPED_HOME": str(work / "home"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "CLIPPED_ALLOWED_ROOTS": str(media),
    }
    out = work / "clips"
    args = ["run", str(video), "--max-clips", "3", "--out", str(out)]
    result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {"out": out, "output": result.output, "env": env, "video": video, "work": work}


def probe(path: Path) -> tuple[int, int, float, float, bool]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        fps = float(video.average_rate)
        duration = float(container.duration / 1_000_000)
        return video.codec_context.width, video.codec_context.height, fps, duration, bool(container.streams.audio)


def integrated_lufs(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
    samples = np.concatenate(chunks, axis=1).T.astype(np.float64)  # planar float → (n, channels)
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples))


def test_manifest_matches_the_files(pipeline_run: dict) -> None:
    manifest = json.loads((pipeline_run["out"] / "clips.json").read_text())
    assert manifest["source"]["language"] == "en"
    assert manifest["source"]["duration_s"] == pytest.approx(74.2, abs=0.5)
    assert re.fullmatch(r"local\.talk-[0-9a-f]{10}", manifest["source"]["partition"])
    clips = manifest["clips"]
    assert 1 <= len(clips) <= 3
    assert [clip["rank"] for clip in clips] == list(range(1, len(clips) + 1))
    assert sorted(path.name for path in pipeline_run["out"].glob("*.mp4")) == [clip["file"] for clip in clips]
    for clip in clips:
        assert 0 <= clip["score"] <= 1
        assert set(clip["scores"]) == {"hook", "flow", "value", "energy"}
        assert clip["title"] and clip["reason"]
        # Times come from ASR words: the clip starts at its first word and ends at its last.
        assert clip["words"][0]["start_s"] == pytest.approx(clip["start_s"], abs=0.01)
        assert clip["words"][-1]["end_s"] == pytest.approx(clip["end_s"], abs=0.01)


def test_clips_are_vertical_within_bounds_and_loudness_normalised(pipeline_run: dict) -> None:
    manifest = json.loads((pipeline_run["out"] / "clips.json").read_text())
    for clip in manifest["clips"]:
        width, height, fps, duration, has_audio = probe(pipeline_run["out"] / clip["file"])
        assert (width, height) == (1080, 1920)
        assert fps == pytest.approx(30, abs=0.01)
        assert has_audio
        assert 15 - 0.3 <= duration <= 90 + 0.3
        assert duration == pytest.approx(clip["end_s"] - clip["start_s"], abs=0.3)
        assert integrated_lufs(pipeline_run["out"] / clip["file"]) == pytest.approx(-14, abs=1)


def test_captions_are_burned_in(pipeline_run: dict) -> None:
    """OCR the caption band of a few frames and find the clip's own words there."""
    from rapidocr_onnxruntime import RapidOCR

    ocr = RapidOCR()
    manifest = json.loads((pipeline_run["out"] / "clips.json").read_text())
    clip = manifest["clips"][0]
    spoken = {re.sub(r"[^a-z]", "", word["word"].lower()) for word in clip["words"]} - {""}
    seen: set[str] = set()
    with av.open(str(pipeline_run["out"] / clip["file"])) as container:
        stream = container.streams.video[0]
        for index, frame in enumerate(container.decode(stream)):
            if index % 45 != 15:
                continue
            image = frame.to_ndarray(format="bgr24")
            band = image[int(image.shape[0] * 0.55) : int(image.shape[0] * 0.85)]
            texts, _ = ocr(band)
            for _box, text, _score in texts or []:
                seen |= {re.sub(r"[^a-z]", "", token.lower()) for token in text.split()}
            if len(seen & spoken) >= 5:
                break
    assert len(seen & spoken) >= 5, (seen, spoken)


def test_run_is_recorded_in_the_persistent_instance(pipeline_run: dict) -> None:
    from dagster import AssetKey, DagsterInstance

    manifest = json.loads((pipeline_run["out"] / "clips.json").read_text())
    partition = manifest["source"]["partition"]
    instance = DagsterInstance.from_config(pipeline_run["env"]["DAGSTER_HOME"])
    assert partition in instance.get_dynamic_partitions("source_video")
    for name in ("source_video", "transcript", "candidates", "faces", "rendered_clips"):
        event = instance.get_latest_materialization_event(AssetKey(name))
        assert event is not None, name
        assert event.dagster_event.partition == partition


def test_a_second_run_reuses_complete_outputs(pipeline_run: dict) -> None:
    manifest = json.loads((pipeline_run["out"] / "clips.json").read_text())
    storage = LocalStorage(root=str(Path(pipeline_run["env"]["CLIPPED_HOME"]) / "storage"))
    source = SourceRef.from_partition_key(manifest["source"]["partition"])
    transcript_key = source.key("transcript.json")
    before = storage.read_bytes(transcript_key), (Path(storage.root) / transcript_key).stat().st_mtime_ns
    out = pipeline_run["work"] / "again"
    args = ["run", str(pipeline_run["video"]), "--max-clips", "3", "--out", str(out)]
    result = CliRunner().invoke(app, args, env=pipeline_run["env"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    after = storage.read_bytes(transcript_key), (Path(storage.root) / transcript_key).stat().st_mtime_ns
    assert after == before  # not rewritten
    assert json.loads((out / "clips.json").read_text())["clips"] == manifest["clips"]


def test_each_clip_records_the_ffmpeg_that_rendered_it(pipeline_run: dict) -> None:
    """Reproducible renders: the stage's manifest names the binary and version that wrote each clip."""
    manifest = json.loads((pipeline_run["out"] / "clips.json").read_text())
    storage = LocalStorage(root=str(Path(pipeline_run["env"]["CLIPPED_HOME"]) / "storage"))
    source = SourceRef.from_partition_key(manifest["source"]["partition"])
    rendered = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    assert rendered.clips and {clip.ffmpeg for clip in rendered.clips} == {ffmpeg_identity()}
