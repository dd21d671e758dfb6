"""RetinaFace through the vision resource on real photos, and the face pass over the bundled sample video."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from clipped.faces import track_faces_in_windows
from clipped.faces.retinaface import non_max_suppression, prior_boxes
from clipped.faces.sampling import open_video, sample_frames
from clipped_resources.vision import RetinaFaceVision, VisionResource

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SAMPLE = ROOT / "samples" / "clipped_sample.mp4"


@pytest.fixture(scope="module")
def detector() -> RetinaFaceVision:
    return RetinaFaceVision()


def test_prior_count_matches_three_strides() -> None:
    # 640×352: (80·44 + 40·22 + 20·11) cells, two prior sizes per cell.
    assert prior_boxes(352, 640).shape == (2 * (80 * 44 + 40 * 22 + 20 * 11), 4)


def test_nms_keeps_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10]], dtype=np.float32)
    scores = np.array([0.8, 0.9, 0.7], dtype=np.float32)
    assert non_max_suppression(boxes, scores, 0.4).tolist() == [1, 2]


def test_the_base_interface_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        VisionResource().detect_faces(np.zeros((8, 8, 3), dtype=np.uint8))


def test_astronaut_has_one_face_around_her_face(detector: RetinaFaceVision) -> None:
    image = cv2.imread(str(DATA / "astronaut.png"))
    faces = detector.detect_faces(image)
    assert len(faces) == 1
    face = faces[0]
    assert face.score > 0.9
    # The face in the 512×512 portrait spans roughly x 180-270, y 60-175.
    assert 150 < face.x < 200 and 250 < face.x + face.w < 300
    assert 30 < face.y < 90 and 150 < face.y + face.h < 210


def test_boxes_are_in_source_pixels_whatever_the_detection_size(detector: RetinaFaceVision) -> None:
    image = cv2.imread(str(DATA / "astronaut.png"))
    big = cv2.resize(image, (1536, 1536))  # detected at 640, reported at 1536
    (small_face,), (big_face,) = detector.detect_faces(image), detector.detect_faces(big)
    assert big_face.x == pytest.approx(small_face.x * 3, abs=12)
    assert big_face.w == pytest.approx(small_face.w * 3, abs=15)


def test_grey_image_is_accepted(detector: RetinaFaceVision) -> None:
    grey = cv2.imread(str(DATA / "astronaut.png"), cv2.IMREAD_GRAYSCALE)
    assert len(detector.detect_faces(grey)) == 1


def test_solvay_group_photo_has_many_faces(detector: RetinaFaceVision) -> None:
    image = cv2.imread(str(DATA / "solvay_conference_1927.jpg"))
    assert len(detector.detect_faces(image)) >= 20
    # At a larger detection size the small faces at the back are found too (29 people in the photo).
    assert 27 <= len(RetinaFaceVision(max_side=1280).detect_faces(image)) <= 31


def test_blank_frame_has_no_faces(detector: RetinaFaceVision) -> None:
    assert detector.detect_faces(np.zeros((720, 1280, 3), dtype=np.uint8)) == []
    assert detector.detect_faces(np.full((720, 1280, 3), 200, dtype=np.uint8)) == []


def test_sampling_decodes_only_the_window_at_the_asked_rate() -> None:
    container, stream = open_video(str(SAMPLE))
    try:
        samples = list(sample_frames(container, stream, 30.0, 34.0, 3.0))
    finally:
        container.close()
    times = [t for t, _frame in samples]
    assert len(times) == 12
    # Frames nothing refers to are not decoded: a sample may be a frame or two after its due time.
    assert 30.0 <= times[0] < 30.1 and times[-1] < 34.0
    assert all(0.25 < b - a < 0.45 for a, b in itertools.pairwise(times))
    assert samples[0][1].shape == (720, 1280, 3)


def test_tracking_the_sample_gives_one_moving_track(detector: RetinaFaceVision) -> None:
    progress: list[float] = []
    result = track_faces_in_windows(
        SAMPLE, [("c1", 30.0, 40.0), ("c2", 2.0, 4.0)], detector, sample_fps=3.0, on_progress=progress.append
    )
    assert (result.width, result.height, result.sample_fps) == (1280, 720, 3.0)
    assert result.detector == detector.name
    assert [window.candidate_id for window in result.windows] == ["c1", "c2"]
    frames = result.windows[0].frames
    assert len(frames) == 30 and all(30.0 <= frame.t_s < 40.0 for frame in frames)

    counts = Counter(face.track_id for frame in frames for face in frame.faces)
    dominant, seen = counts.most_common(1)[0]
    assert seen >= 0.9 * len(frames)
    centres = [face.x + face.w / 2 for frame in frames for face in frame.faces if face.track_id == dominant]
    # The face drifts left at about 15 px/s in this shot.
    assert centres[0] - centres[-1] > 100
    assert progress[-1] == 1.0 and progress == sorted(progress)
