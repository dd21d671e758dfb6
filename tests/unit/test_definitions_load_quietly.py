"""`clipped ui` loads the definitions without warnings from this project's code (beta APIs, job settings)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD = (
    "from definitions import build_definitions\n"
    "defs = build_definitions('local')\n"
    "defs.get_repository_def().get_all_jobs()\n"
)
WARNING_LINE = re.compile(r"^(?P<path>\S+\.py):\d+: (?P<category>\w+Warning): (?P<message>.*)$", re.MULTILINE)


def test_loading_the_definitions_warns_about_nothing_of_ours(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "CLIPPED_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", LOAD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    warnings = [match.groupdict() for match in WARNING_LINE.finditer(result.stderr)]
    ours = [w for w in warnings if not w["path"].startswith(sys.prefix) or "analytics_job" in w["message"]]
    assert ours == [], ours
    # Third-party warnings seen with -W default are deprecations inside installed packages, not our calls.
    assert all(w["category"] == "DeprecationWarning" for w in warnings), warnings
