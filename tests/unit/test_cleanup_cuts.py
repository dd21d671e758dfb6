"""Clean-up cut planning: which stretches a clip keeps, and how its times move onto the shortened timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipped.effects import CleanupCuts
from clipped.render.cleanup_cuts import audio_cut_filter, filler_indices, plan_cleanup, video_select_filter
from clipped.render.crop_path import plan_crop_path
from clipped.render.layouts import choose_layout
from clipped.render.render_clip import RenderSpec, on_cut_timeline, video_filter
from clipped.types import FaceBox, FaceFrame, Word

BOTH = CleanupCuts(remove_fillers=True, remove_pauses=True, max_pause_s=0.7)


def words(*timed: tuple[str, float, float]) -> list[Word]:
    return [Word(word=text, start_s=start, end_s=end) for text, start, end in timed]


TALK = words(
    ("So", 10.0, 10.3), ("this", 10.4, 10.7), ("um", 11.0, 11.4), ("works.", 11.6, 12.0),
    ("Then", 14.0, 14.3), ("nothing", 14.4, 14.9), ("else.", 15.0, 15.4),
)  # fmt: skip


def test_fillers_and_long_pauses_are_cut_at_word_boundaries_on_the_frame_grid() -> None:
    plan = plan_cleanup(TALK, 10.0, 16.5, BOTH)
    assert [r.reason for r in plan.removals] == ["filler", "pause", "pause"]
    filler, pause, tail = plan.removals
    # The filler and the silence around it go; a short gap stays beside the kept words.
    assert 10.7 < filler.start_s <= 10.8 and 11.5 <= filler.end_s < 11.6
    assert 12.0 < pause.start_s <= 12.1 and 13.9 <= pause.end_s < 14.0
    assert tail.start_s == pytest.approx(15.4 + 0.08, abs=1 / 30) and tail.end_s == pytest.approx(16.42, abs=1 / 30)
    for removal in plan.removals:  # on the 30 fps grid counted from the clip start
        for t in (removal.start_s, removal.end_s):
            assert (t - 10.0) * 30 == pytest.approx(round((t - 10.0) * 30), abs=1e-4)
    assert plan.kept_duration_s == pytest.approx(6.5 - sum(r.duration_s for r in plan.removals))


def test_words_faces_and_scene_cuts_move_onto_the_cut_timeline() -> None:
    plan = plan_cleanup(TALK, 10.0, 16.5, BOTH)
    moved = plan.words(TALK)
    assert [w.word for w in moved] == ["So", "this", "works.", "Then", "nothing", "else."]
    gap_left = moved[3].start_s - moved[2].end_s
    assert 0.1 < gap_left < 0.2  # a 2 s pause is now the kept margins
    assert moved[0].start_s == 10.0 and moved[-1].end_s <= 10.0 + plan.kept_duration_s
    faces = [FaceFrame(t_s=t, faces=[FaceBox(x=0, y=0, w=1, h=1, score=1)]) for t in (10.5, 11.2, 13.0, 14.5)]
    assert [f.t_s for f in plan.face_frames(faces)] == pytest.approx([10.5, plan.to_output(14.5)])
    assert plan.scene_cuts([13.0, 14.2]) == sorted({plan.to_output(14.2), *plan.joins_s()})


def test_cuts_are_given_back_to_keep_the_minimum_duration_pauses_first() -> None:
    plan = plan_cleanup(TALK, 10.0, 16.5, BOTH, min_duration_s=5.0)
    assert plan.kept_duration_s >= 5.0
    assert [r.reason for r in plan.removals] == ["filler"]  # the filler cut (0.73 s) still fits; pauses came back
    assert not plan_cleanup(TALK, 10.0, 16.5, BOTH, min_duration_s=6.5).has_cuts


def test_meaningful_words_are_fillers_only_when_set_off() -> None:
    said = words(("I", 0, 0.1), ("like", 0.2, 0.4), ("it,", 0.5, 0.7), ("like,", 0.8, 1.0), ("you", 1.1, 1.2),
                 ("know,", 1.3, 1.5), ("a", 1.6, 1.7), ("lot.", 1.8, 2.0), ("Uh", 2.1, 2.3))  # fmt: skip
    assert filler_indices(said, ["um", "uh", "like", "you know"]) == {3, 4, 5, 8}
    assert filler_indices(said, ["um"]) == set()  # the list is the user's


def test_nothing_asked_nothing_cut_and_filters_cover_every_kept_span() -> None:
    assert not plan_cleanup(TALK, 10.0, 16.5, CleanupCuts()).has_cuts
    plan = plan_cleanup(TALK, 10.0, 16.5, BOTH)
    assert video_select_filter(plan).count("between(") == len(plan.kept_spans_s)
    audio = audio_cut_filter(plan)
    assert f"concat=n={len(plan.kept_spans_s)}:v=0:a=1" in audio and audio.count("afade=t=in") == len(plan.kept_spans_s)


def test_skipped_steps_leave_the_render_graph_as_it_was() -> None:
    """Clean-up and layout are steps of one chain driven by the spec: when not asked for, they change nothing."""
    spec = RenderSpec(
        source_path=Path("talk.mp4"), start_s=10.0, end_s=16.5, words=TALK, source_width=1280, source_height=720
    )
    assert on_cut_timeline(spec, plan_cleanup(TALK, 10.0, 16.5, spec.effects.cleanup)) is spec
    path = plan_crop_path([], 10.0, 16.5, 1280, 720, "9:16", [])
    plain = video_filter(path, Path("/w/crop.cmd"), Path("/w/c.ass"), 1080, 1920)
    assert plain.startswith("fps=30,sendcmd=") and "select=" not in plain and "vstack" not in plain
    assert choose_layout(spec.effects.layout, [], 10.0, 16.5, "9:16") is None
