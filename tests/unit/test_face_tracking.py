"""The face tracker on synthetic boxes: ids stay with their face, new faces and long absences get new ids."""

from __future__ import annotations

from clipped.faces.tracking import FaceTracker, assign_track_ids
from clipped.types import FaceBox, FaceFrame

STEP_S = 1 / 3  # the face pass samples 3 frames a second


def box(cx: float, cy: float, size: float = 80.0, score: float = 0.99) -> FaceBox:
    return FaceBox(x=cx - size / 2, y=cy - size / 2, w=size, h=size, score=score)


def ids(faces: list[FaceBox]) -> list[int]:
    return [face.track_id for face in faces]


def test_one_moving_face_keeps_one_id() -> None:
    tracker = FaceTracker()
    seen = [tracker.update(i * STEP_S, [box(200 + 25 * i, 300 + 3 * i)]) for i in range(30)]
    assert {face.track_id for faces in seen for face in faces} == {0}


def test_returns_copies_in_input_order_and_leaves_input_untouched() -> None:
    tracker = FaceTracker()
    left, right = box(100, 100), box(900, 100)
    tracker.update(0.0, [left, right])
    labelled = tracker.update(STEP_S, [box(905, 100), box(95, 100)])
    assert ids(labelled) == [1, 0]
    assert left.track_id == -1 and right.track_id == -1


def test_two_faces_crossing_keep_their_ids() -> None:
    # A walks right, B walks left along the same line; at the crossing one hides the other (one detection).
    tracker = FaceTracker()
    a_ids: list[int] = []
    b_ids: list[int] = []
    for i in range(9):
        t = i * STEP_S
        a_x, b_x = 100 + 80 * i, 740 - 80 * i
        if a_x == b_x:
            tracker.update(t, [box(a_x, 300)])
            continue
        a, b = tracker.update(t, [box(a_x, 300), box(b_x, 300)])
        a_ids.append(a.track_id)
        b_ids.append(b.track_id)
    assert set(a_ids) == {a_ids[0]}
    assert set(b_ids) == {b_ids[0]}
    assert a_ids[0] != b_ids[0]


def test_two_faces_passing_at_different_heights_keep_their_ids() -> None:
    tracker = FaceTracker()
    pairs = [tracker.update(i * STEP_S, [box(100 + 60 * i, 250), box(700 - 60 * i, 330)]) for i in range(11)]
    assert all(ids(faces) == [0, 1] for faces in pairs)


def test_face_briefly_lost_comes_back_with_same_id() -> None:
    tracker = FaceTracker(max_gap_s=1.0)
    first = tracker.update(0.0, [box(400, 300)])
    tracker.update(STEP_S, [box(405, 300)])
    tracker.update(2 * STEP_S, [])  # missed detection (blink, turned head)
    back = tracker.update(3 * STEP_S, [box(412, 302)])
    assert ids(back) == ids(first)


def test_face_gone_longer_than_gap_gets_new_id() -> None:
    tracker = FaceTracker(max_gap_s=1.0)
    first = tracker.update(0.0, [box(400, 300)])
    for i in range(1, 6):
        tracker.update(i * STEP_S, [])
    back = tracker.update(6 * STEP_S, [box(400, 300)])
    assert ids(back) != ids(first)


def test_face_appearing_far_away_gets_new_id() -> None:
    tracker = FaceTracker()
    first = tracker.update(0.0, [box(200, 300)])
    jumped = tracker.update(STEP_S, [box(1000, 300)])  # e.g. a cut to another speaker
    assert ids(jumped) != ids(first)
    again = tracker.update(2 * STEP_S, [box(1003, 300)])
    assert ids(again) == ids(jumped)


def test_much_larger_face_at_same_place_is_a_different_face() -> None:
    tracker = FaceTracker()
    first = tracker.update(0.0, [box(400, 300, size=60)])
    closer = tracker.update(STEP_S, [box(400, 300, size=300)])
    assert ids(closer) != ids(first)


def test_new_face_joining_does_not_steal_an_existing_id() -> None:
    tracker = FaceTracker()
    tracker.update(0.0, [box(300, 300)])
    both = tracker.update(STEP_S, [box(700, 300), box(302, 300)])
    assert ids(both) == [1, 0]


def test_assign_track_ids_over_frames() -> None:
    frames = [FaceFrame(t_s=i * STEP_S, faces=[box(300 + 10 * i, 300), box(900, 300)]) for i in range(6)]
    labelled = assign_track_ids(frames)
    assert [ids(frame.faces) for frame in labelled] == [[0, 1]] * 6
    assert [frame.t_s for frame in labelled] == [frame.t_s for frame in frames]
