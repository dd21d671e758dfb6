"""The CLI's step display away from a terminal: one line per step, in the order steps finish."""

from __future__ import annotations

import io

from clipped.progress import publish_step_progress
from clipped_app.step_display import StepDisplay

STEPS = ("source_video", "transcript", "rendered_clips")


def test_a_log_gets_one_line_per_step_as_it_finishes() -> None:
    log = io.StringIO()
    with StepDisplay(STEPS, stream=log) as display:
        publish_step_progress("source_video", 0.0)
        publish_step_progress("source_video", 1.0)
        assert log.getvalue().count("\n") == 1  # written when the step ends, not at the end of the run
        publish_step_progress("transcript", 0.0)
        for fraction in (0.2, 0.5, 0.9, 1.0, 1.0):  # a repeated end is not a second line
            publish_step_progress("transcript", fraction)
        publish_step_progress("not_a_step", 1.0)
        display.finish_all()  # a step that reported nothing (reused outputs) still gets its line
    lines = log.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == list(STEPS)
    assert all("done in" in line and "elapsed 0:0" in line for line in lines)
    assert "\x1b[" not in log.getvalue()  # no cursor movement or colour in a log
    publish_step_progress("transcript", 0.5)  # the display stopped listening when it closed
    assert len(log.getvalue().splitlines()) == 3
