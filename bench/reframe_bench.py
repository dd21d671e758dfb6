"""Reframing quality on moving-face footage: is the followed face inside the 9:16 crop, does the crop jump?

Cuts the moving benchmark footage (bench/moving_footage.py: a handheld camera wandering around one face per
shot, faces moving up to ~600 px/s at 720p) into 30 s windows, finds and tracks faces in each as the pipeline
does (RetinaFace, 3 frames/s), plans the crop path with the detected scene cuts, and measures it with
:func:`clipped.render.reframe_metrics.reframe_metrics`. Targets: face inside ≥ 99 % of sampled frames, largest
jump outside cuts ≤ 5 % of the window's width. Writes bench/out/reframe_<resolution>.md.

    python bench/reframe_bench.py --resolution 720p
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from moving_footage import moving_footage  # noqa: E402

from clipped.faces import track_faces_in_windows  # noqa: E402
from clipped.render.crop_path import plan_crop_path  # noqa: E402
from clipped.render.reframe_metrics import reframe_metrics  # noqa: E402
from clipped.render.render_clip import OUTPUT_FPS  # noqa: E402
from clipped.understand.scenes import detect_scenes  # noqa: E402
from clipped_resources.vision import RetinaFaceVision  # noqa: E402

WINDOW_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", default="720p")
    parser.add_argument("--minutes", type=float, default=4.0, help="footage length; windows cover all of it")
    parser.add_argument("--aspect", default="9:16")
    parser.add_argument("--windows", type=int, default=8, help="how many 30 s windows to measure")
    args = parser.parse_args()
    video = moving_footage(args.resolution, args.minutes)
    scenes = detect_scenes(video)
    windows = [
        (f"w{i}", i * WINDOW_S, (i + 1) * WINDOW_S)
        for i in range(min(args.windows, int(scenes.duration_s // WINDOW_S)))
    ]
    faces = track_faces_in_windows(video, windows, RetinaFaceVision())
    rows = [
        "| window | sampled frames with the followed face | face inside crop | largest jump (share of crop width) |"
    ]
    rows.append("|---|---|---|---|")
    sampled = inside = 0
    worst_jump = 0.0
    for (window_id, start_s, end_s), result in zip(windows, faces.windows, strict=True):
        path = plan_crop_path(
            result.frames, start_s, end_s, faces.width, faces.height, args.aspect, scenes.cuts_s, fps=OUTPUT_FPS
        )
        metrics = reframe_metrics(path, result.frames, start_s, scenes.cuts_s)
        sampled += metrics.sampled_frames
        inside += metrics.face_inside
        worst_jump = max(worst_jump, metrics.max_jump_share)
        rows.append(
            f"| {window_id} {start_s:.0f}–{end_s:.0f} s | {metrics.sampled_frames} | {metrics.face_inside_share:.1%} "
            f"| {metrics.max_jump_share:.1%} ({metrics.max_jump_px} px) |"
        )
    rows.append(f"| **all** | {sampled} | **{inside / max(1, sampled):.1%}** | **{worst_jump:.1%}** |")
    table = f"{video.name}, {args.aspect}, {len(scenes.cuts_s)} detected cuts\n\n" + "\n".join(rows)
    print(table)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"reframe_{args.resolution}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
