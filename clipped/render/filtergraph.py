"""Pieces of ffmpeg filtergraphs that take file paths, quoted so any path survives the graph parser."""

from __future__ import annotations

import re
from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent / "fonts"


def escape_filter_value(value: str) -> str:
    """Escape an option value for a filtergraph given to ``-vf``/``-af`` as one argument (no shell involved).

    ffmpeg unescapes twice: once for the option value (``\\``, ``'``, ``:``) and once for the graph
    (``\\``, ``'``, ``[``, ``]``, ``,``, ``;``), so both layers are applied here, innermost first.
    """
    option_level = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option_level)


def ass_filter(ass_path: Path, fonts_dir: Path = FONTS_DIR) -> str:
    """The ``ass`` filter burning ``ass_path`` with fonts from ``fonts_dir`` only, so no system font is needed."""
    return f"ass=filename={escape_filter_value(str(ass_path))}:fontsdir={escape_filter_value(str(fonts_dir))}"


def sendcmd_filter(script_path: Path) -> str:
    """The ``sendcmd`` filter reading its commands from ``script_path``."""
    return f"sendcmd=filename={escape_filter_value(str(script_path))}"
