"""The pipeline's progress as `clipped run` shows it: live bars on a terminal, one line per step in a log."""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from clipped.progress import add_step_listener


def terminal_stream() -> TextIO:
    """A stream to the process's real stderr that survives a run's log capture.

    Dagster's compute log capture points file descriptor 2 at a log file while each step runs, so anything
    written to ``sys.stderr`` then (the progress bars' refreshes) lands in that file until the run ends.
    A duplicate of the descriptor taken beforehand keeps pointing at the terminal.
    """
    try:
        descriptor = sys.stderr.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):  # a test runner's in-memory stderr
        return sys.stderr
    return os.fdopen(os.dup(descriptor), "w", buffering=1, encoding="utf-8", errors="replace")


class StepDisplay:
    """Shows the steps in pipeline order, fed by the steps' progress callbacks (:mod:`clipped.progress`).

    On a terminal: a bar per step with its elapsed time and an estimate of the time left, redrawn live.
    Elsewhere (a CI log, a file): one line per step as it finishes, with its time and the run's elapsed time.
    """

    def __init__(self, steps: Sequence[str], stream: TextIO | None = None) -> None:
        self.steps = tuple(steps)
        self.stream = stream or terminal_stream()
        self.console = Console(file=self.stream)
        self.live = self.console.is_terminal
        self.started_at = time.monotonic()
        self.step_started: dict[str, float] = {}
        self.finished: set[str] = set()
        self.progress = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            _TimeLeftColumn(),
            console=self.console,
            transient=False,
            refresh_per_second=4,
        )
        # Every step has its row from the start, so the rows keep pipeline order whichever step reports first.
        self.tasks: dict[str, TaskID] = {
            step: self.progress.add_task(step, total=1.0, start=False) for step in self.steps
        }

    def __enter__(self) -> StepDisplay:
        if self.live:
            self.progress.start()
        self.remove_listener = add_step_listener(self.update)
        return self

    def update(self, step: str, fraction: float) -> None:
        """A step reported ``fraction`` done (0.0 when it starts, 1.0 when it ends)."""
        task = self.tasks.get(step)
        if task is None or step in self.finished:
            return
        if step not in self.step_started:
            self.step_started[step] = time.monotonic()
            self.progress.start_task(task)
        self.progress.update(task, completed=fraction)
        if fraction >= 1.0:
            self.finish(step)

    def finish(self, step: str) -> None:
        if step in self.finished:
            return
        self.finished.add(step)
        task = self.tasks[step]
        self.progress.update(task, completed=1.0)
        self.progress.stop_task(task)
        if not self.live:
            took = time.monotonic() - self.step_started.get(step, time.monotonic())
            elapsed = time.monotonic() - self.started_at
            self.console.print(f"{step:<16} done in {took:6.1f} s  (elapsed {_clock(elapsed)})", highlight=False)

    def finish_all(self) -> None:
        """The run succeeded: every step is done, including any that reported nothing."""
        for step in self.steps:
            self.finish(step)

    def __exit__(self, *exc_info: object) -> None:
        self.remove_listener()
        if self.live:
            self.progress.stop()
        self.stream.flush()


class _TimeLeftColumn(ProgressColumn):
    """'~0:12 left' while a step runs (from its speed so far), nothing before it starts or once it is done."""

    def render(self, task: Task) -> Text:
        if not task.started or task.finished:
            return Text("")
        left = task.time_remaining
        return Text("estimating" if left is None else f"~{_clock(left)} left", style="progress.remaining")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:d}:{rest:02d}"
