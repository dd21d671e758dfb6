"""Job progress derived from step views: full only when the run has succeeded."""

from __future__ import annotations

from api.services.job_status import STEPS, RunView, StepView


def test_progress_is_not_full_while_the_last_step_finishes() -> None:
    steps = [StepView(name, status="succeeded", fraction=1.0) for name in STEPS[:-1]]
    # rendered_clips logged 100% but its checks (and STEP_SUCCESS) have not come yet.
    steps.append(StepView(STEPS[-1], status="running", fraction=1.0))
    assert RunView(status="running", steps=steps).progress < 1.0
    assert RunView(status="succeeded", steps=steps).progress == 1.0


def test_progress_counts_finished_steps_and_the_running_fraction() -> None:
    steps = [StepView(name) for name in STEPS]
    steps[0] = StepView(STEPS[0], status="succeeded", fraction=1.0)
    steps[1] = StepView(STEPS[1], status="running", fraction=0.5)
    assert RunView(status="running", steps=steps).progress == round(1.5 / len(STEPS), 3)
