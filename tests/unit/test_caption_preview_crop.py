"""The caption-style preview is framed as the clip is: its face-following crop at that moment, not a centre crop."""

from __future__ import annotations

from api.services.rendering import crop_window_at
from clipped.ingest.probe import MediaInfo
from clipped.render.inputs import RenderInputs
from clipped.types import FaceBox, FaceFrame, RenderedClip

W, H = 1280, 720


def test_the_preview_crop_follows_the_face_the_clip_follows() -> None:
    # A speaker at the right edge of a wide shot, the whole clip long (face times are source times).
    face = FaceBox(x=1050, y=200, w=160, h=160, score=0.95, track_id=1)
    frames = [FaceFrame(t_s=10 + i / 5, faces=[face]) for i in range(50)]
    inputs = RenderInputs(
        media=MediaInfo.model_construct(width=W, height=H),
        cuts_s=[],
        faces_by_window={"c1": frames},
    )
    clip = RenderedClip.model_construct(candidate_id="c1", start_s=10.0, end_s=20.0)
    width, height, x, y = crop_window_at(inputs, clip, "9:16", at_s=14.0)
    assert (width, height) == (404, 720) and y == 0
    centre_x = (W - width) // 2
    assert x > centre_x + 300, (x, centre_x)  # framed on the speaker, not the middle of the frame
    assert x <= W - width
    # Without faces the clip is centred, and so is its preview.
    no_faces = RenderInputs(media=inputs.media, cuts_s=[], faces_by_window={})
    assert crop_window_at(no_faces, clip, "9:16", at_s=14.0)[2] == centre_x
