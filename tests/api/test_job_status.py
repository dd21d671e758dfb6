"""Job progress derived from step views: weighted by each step's expected cost, full only when the run has succeeded;
what a job says when its run failed outside its steps; finished runs' views kept, running ones read afresh."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, instance_for_test

# To record run events as Dagster does: a run start, and the engine event its run queue leaves when it drops a run.
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._utils.error import serializable_error_info_from_exc_info

from api.services.job_status import (
    RUN_LEVEL_REPORTS,
    STEP_WEIGHTS,
    STEPS,
    FinishedRunViews,
    RunView,
    StepView,
    run_level_reason,
    run_view,
)


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


def _unstarted_run(instance: DagsterInstance) -> DagsterRun:
    """A run the instance knows but that never started (as the API's launcher records one that could not start)."""
    run = DagsterRun(job_name="clip_job", run_id=str(uuid.uuid4()), status=DagsterRunStatus.NOT_STARTED)
    return instance.add_run(run)


def _job_error(instance: DagsterInstance, run: DagsterRun) -> str:
    view = run_view(instance, run.run_id)
    assert view.status == "failed" and {step.status for step in view.steps} == {"skipped"}
    # A re-render's version reads the same reason (api/services/rendering.py), or, with none recorded, says so.
    rerender = run_level_reason(instance.all_logs(run.run_id, of_type=RUN_LEVEL_REPORTS))
    assert rerender == view.error or "recorded no reason" in rerender
    return view.error


def test_a_run_that_never_started_says_what_happened() -> None:
    with instance_for_test() as instance:
        # The API's launcher gave up on a run process that kept exiting before it started the run.
        gave_up = _unstarted_run(instance)
        reason = "the run process exited with 1 before starting the run, 3 times: ImportError: no module named x"
        instance.report_run_failed(gave_up, message=reason)
        assert _job_error(instance, gave_up) == reason

        # Dagster's run queue dropped a run it could not start: the reason is in its engine event only.
        dropped = _unstarted_run(instance)
        try:
            raise TimeoutError("StartRun timed out after 60 s")
        except TimeoutError:
            error = serializable_error_info_from_exc_info(sys.exc_info())
        instance.report_engine_event(
            "Caught an unrecoverable error while dequeuing the run. Marking the run as failed and dropping it from "
            "the queue",
            dropped,
            EngineEventData.engine_error(error),
        )
        instance.report_run_failed(dropped)  # with Dagster's reason-less default message
        said = _job_error(instance, dropped)
        assert said.startswith("Caught an unrecoverable error while dequeuing the run") and "StartRun timed out" in said
        assert "outside the execution context" not in said

        # Nothing recorded at all: at least how far it got.
        silent = _unstarted_run(instance)
        instance.report_run_failed(silent)
        assert _job_error(instance, silent).startswith("the run failed before its first step started")


class CountingLogs:
    """An instance whose event-log reads are counted."""

    def __init__(self, instance: DagsterInstance) -> None:
        self.instance, self.reads = instance, 0

    def all_logs(self, run_id, of_type=None):
        self.reads += 1
        return self.instance.all_logs(run_id, of_type=of_type)


def test_a_finished_runs_view_is_read_once_and_a_running_ones_every_time() -> None:
    with instance_for_test() as instance:
        counting = CountingLogs(instance)
        views = FinishedRunViews()
        running = instance.add_run(DagsterRun(job_name="clip_job", run_id=str(uuid.uuid4())))
        instance.handle_run_event(running.run_id, _run_started(running))
        running = instance.get_run_by_id(running.run_id)
        assert views.view(counting, running).status == "running"
        assert views.view(counting, running).status == "running"
        assert counting.reads == 2

        instance.report_run_failed(running, message="out of disk")
        failed = instance.get_run_by_id(running.run_id)
        first = views.view(counting, failed)
        first.status = "changed by a caller"  # callers get copies: the kept view is not theirs to change
        again = views.view(counting, failed)
        assert again.status == "failed" and again.error == "out of disk"
        assert counting.reads == 3

        assert views.view(counting, None).status == "queued"  # not known yet: nothing to keep


def _run_started(run: DagsterRun) -> DagsterEvent:
    return DagsterEvent(DagsterEventType.RUN_START.value, job_name=run.job_name)
