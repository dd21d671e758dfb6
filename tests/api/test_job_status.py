"""Job progress derived from step views: weighted by each step's expected cost, full only when the run has succeeded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.services.job_status import STEP_WEIGHTS, STEPS, RunView, StepView


def test_progress_is_not_full_while_the_last_step_finishes() -> None:
    steps = [StepView(name, status="succeeded", fraction=1.0) for name in STEPS[:-1]]
    # rendered_clips logged 100% but its checks (and STEP_SUCCESS) have not come yet.
    steps.append(StepView(STEPS[-1], status="running", fraction=1.0))
    assert RunView(status="running", steps=steps).progress < 1.0
    assert RunView(status="succeeded", steps=steps).progress == 1.0


def test_progress_weighs_each_step_by_its_expected_cost() -> None:
    steps = [StepView(name) for name in STEPS]
    steps[0] = StepView(STEPS[0], status="succeeded", fraction=1.0)
    steps[1] = StepView(STEPS[1], status="running", fraction=0.5)
    total = sum(STEP_WEIGHTS.values())
    expected = (STEP_WEIGHTS[STEPS[0]] + 0.5 * STEP_WEIGHTS[STEPS[1]]) / total
    assert RunView(status="running", steps=steps).progress == round(expected, 3)
    # Rendering just started: most of the run is still ahead (it read 86 % with equal weights).
    rendering = [StepView(name, status="succeeded", fraction=1.0) for name in STEPS[:-1]]
    rendering.append(StepView("rendered_clips", status="running", fraction=0.0))
    assert RunView(status="running", steps=rendering).progress < 0.5


def test_time_left_is_estimated_from_the_time_so_far() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    steps = [StepView(name, status="succeeded", fraction=1.0) for name in STEPS[:-1]]
    steps.append(StepView("rendered_clips", status="running", fraction=0.5))
    view = RunView(status="running", steps=steps, started_at=start)
    now = start + timedelta(seconds=60)
    assert view.seconds_left(now) == pytest.approx(60 * (1 - view.progress) / view.progress, abs=0.1)
    assert RunView(status="running", steps=[StepView(n) for n in STEPS], started_at=start).seconds_left(now) is None
    assert RunView(status="succeeded", steps=steps, started_at=start).seconds_left(now) is None
