"""A job's status, steps and timings, read from its latest Dagster run and that run's step events."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, EventLogEntry

from clipped.stages import CLIP_JOB_STEPS

STEPS = CLIP_JOB_STEPS
RUN_STATUS = {
    DagsterRunStatus.QUEUED: "queued",
    DagsterRunStatus.NOT_STARTED: "queued",
    DagsterRunStatus.STARTING: "queued",
    DagsterRunStatus.MANAGED: "queued",
    DagsterRunStatus.STARTED: "running",
    DagsterRunStatus.CANCELING: "running",
    DagsterRunStatus.SUCCESS: "succeeded",
    DagsterRunStatus.FAILURE: "failed",
    DagsterRunStatus.CANCELED: "canceled",
}
# Each step's share of a typical run's time (the 74 s sample, 3 clips, 2 CPU cores: rendering is about 60 %),
# so the bar does not read 86 % when rendering, the longest step, has only just started.
STEP_WEIGHTS = {
    "source_video": 6,
    "transcript": 16,
    "scenes": 4,
    "audio_features": 2,
    "candidates": 2,
    "moment_index": 4,
    "source_summary": 1,
    "faces": 8,
    "rendered_clips": 62,
}
TERMINAL = {"succeeded", "failed", "canceled"}
UNFINISHED_MAX = 0.99
# Steps log "<step>: 40%" as they go (clipped_assets.step_context.progress_for).
_PROGRESS = re.compile(r"^(?P<step>[a-z_]+): (?P<pct>\d{1,3})%$")
# What DagsterInstance.report_run_failed says when its caller gave no reason (the run queue's daemon, for one):
# the reason is then in an engine event just before it.
_UNEXPLAINED_RUN_FAILURE = "This run has been marked as failed from outside the execution context."
RUN_LEVEL_REPORTS = {DagsterEventType.RUN_FAILURE, DagsterEventType.ENGINE_EVENT}


@dataclass
class StepView:
    name: str
    status: str = "pending"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    fraction: float = 0.0

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds(), 3)


@dataclass
class RunView:
    status: str
    steps: list[StepView] = field(default_factory=list)
    error: str | None = None
    started_at: datetime | None = None
    last_event_at: datetime | None = None

    @property
    def progress(self) -> float:
        """Done so far, each step weighted by its expected share of the run's time (:data:`STEP_WEIGHTS`)."""
        if self.status == "succeeded":
            return 1.0
        total = sum(STEP_WEIGHTS.get(s.name, 1) for s in self.steps) or 1
        done = sum(STEP_WEIGHTS.get(s.name, 1) * (1.0 if s.status == "succeeded" else s.fraction) for s in self.steps)
        # A step logs 100% before its checks and STEP_SUCCESS: full only once the run has succeeded.
        return round(min(UNFINISHED_MAX, done / total), 3)

    def seconds_left(self, now: datetime) -> float | None:
        """An estimate of the time left, from the time so far and the weighted progress; None until there is
        enough progress to go on (5 %) or when the run is not running."""
        if self.status != "running" or self.started_at is None or self.progress < 0.05:
            return None
        elapsed = (now - self.started_at).total_seconds()
        return round(max(0.0, elapsed * (1 - self.progress) / self.progress), 1)


def _at(entry: EventLogEntry) -> datetime:
    return datetime.fromtimestamp(entry.timestamp, UTC)


def run_view(instance: DagsterInstance, run_id: str | None) -> RunView:
    """Status and steps of ``run_id``; a run the instance does not know yet is queued."""
    return view_of_run(instance, instance.get_run_by_id(run_id) if run_id else None)


def view_of_run(instance: DagsterInstance, run: DagsterRun | None) -> RunView:
    """Status and steps of ``run`` from its event log; None (a run the instance does not know yet) is queued."""
    steps = {name: StepView(name) for name in STEPS}
    if run is None:
        return RunView(status="queued", steps=list(steps.values()))
    run_id = run.run_id
    status = RUN_STATUS.get(run.status, "running")
    error = None
    run_level: list[EventLogEntry] = []  # what the run as a whole reported: why it failed outside any step
    started_at = last_event_at = None
    for entry in instance.all_logs(run_id):
        last_event_at = _at(entry)  # what "updated" shows: the run's latest news, a progress log included
        step = steps.get(entry.step_key or "")
        event = entry.dagster_event
        if event is not None and event.event_type == DagsterEventType.RUN_START:
            started_at = _at(entry)
        elif event is not None and event.event_type in RUN_LEVEL_REPORTS and entry.step_key is None:
            run_level.append(entry)
        if step is None:
            continue
        if event is None:
            match = _PROGRESS.match(entry.user_message or "")
            if match and match["step"] == step.name:
                step.fraction = min(1.0, int(match["pct"]) / 100)
            continue
        kind = event.event_type
        if kind == DagsterEventType.STEP_START and step.started_at is None:
            step.status, step.started_at = "running", _at(entry)
        elif kind in (DagsterEventType.STEP_UP_FOR_RETRY, DagsterEventType.STEP_RESTARTED):
            step.status = "running"
        elif kind == DagsterEventType.STEP_SUCCESS:
            step.status, step.ended_at, step.fraction = "succeeded", _at(entry), 1.0
        elif kind == DagsterEventType.STEP_FAILURE:
            step.status, step.ended_at = "failed", _at(entry)
            error = error or f"{step.name}: {failure_reason(event)}"
        elif kind == DagsterEventType.STEP_SKIPPED:
            step.status = "skipped"
    if status in TERMINAL:
        for step in steps.values():
            if step.status == "pending":
                step.status = "skipped"
            elif step.status == "running":  # the run ended (canceled, crashed) while this step ran
                step.status = "failed"
    if status == "failed" and error is None:
        error = run_level_reason(run_level, steps_started=any(s.started_at is not None for s in steps.values()))
    return RunView(
        status=status,
        steps=list(steps.values()),
        error=error if status == "failed" else None,
        started_at=started_at or next((s.started_at for s in steps.values() if s.started_at), None),
        last_event_at=last_event_at,
    )


class FinishedRunViews:
    """Views of runs that have ended, kept by run id: a finished run's event log no longer changes, and reading it
    again for every job of every job list is most of the list's cost. Thread-safe; the oldest go first."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._views: OrderedDict[str, RunView] = OrderedDict()
        self._lock = threading.Lock()

    def view(self, instance: DagsterInstance, run: DagsterRun | None) -> RunView:
        """The view of ``run`` (a copy: callers may change it)."""
        if run is None or RUN_STATUS.get(run.status) not in TERMINAL:
            return view_of_run(instance, run)
        with self._lock:
            kept = self._views.get(run.run_id)
            if kept is not None:
                self._views.move_to_end(run.run_id)
                return _copy(kept)
        view = view_of_run(instance, run)
        with self._lock:
            self._views[run.run_id] = _copy(view)
            while len(self._views) > self.capacity:
                self._views.popitem(last=False)
        return view


def _copy(view: RunView) -> RunView:
    return replace(view, steps=[replace(step) for step in view.steps])


def failure_reason(event) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return _root_cause(data.error) or "failed"


def run_level_reason(entries: Iterable[EventLogEntry], *, steps_started: bool = True) -> str:
    """Why a run failed outside its steps (it never started, its process was killed, the queue dropped it), from
    its RUN_FAILURE and engine events (``RUN_LEVEL_REPORTS``): the failure's own reason, else the last engine error
    before it, else how far it got."""
    failure = engine_error = None
    for entry in entries:
        event = entry.dagster_event
        if event is None:
            continue
        cause = _root_cause(getattr(event.event_specific_data, "error", None))
        message = (event.message or "").strip()
        if event.event_type == DagsterEventType.RUN_FAILURE:
            failure = _what_and_why("" if message == _UNEXPLAINED_RUN_FAILURE else message, cause) or failure
        elif cause is not None:  # an engine event that reports an error (a run the queue could not start)
            engine_error = _what_and_why(message, cause)
    if failure or engine_error:
        return failure or engine_error
    if steps_started:
        return "the run failed outside its steps and recorded no reason (see the run in the Dagster UI)"
    return "the run failed before its first step started and recorded no reason (see the run in the Dagster UI)"


def _what_and_why(message: str, cause: str | None) -> str | None:
    if message and cause:
        return f"{message.rstrip('.')}: {cause}"
    return message or cause


def _root_cause(error) -> str | None:
    """The last line of the innermost cause of a serialized error (what was raised first), if any."""
    if error is None:
        return None
    while error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines()
    return lines[-1] if lines else None
