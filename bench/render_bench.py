"""Where a clip render's time goes, and which x264 settings give the same picture for less CPU.

On a window of the moving benchmark footage, with a face-following crop path and word captions as the
pipeline makes them, ffmpeg runs the render's video chain in growing stages (decode; + fps/crop/scale; +
captions; + x264 encode at the default preset) and reports each stage's CPU time (``-benchmark`` utime+stime,
one thread as in the pipeline). Then the same chain is encoded with several x264 preset/CRF pairs and each is
compared by SSIM (Y, ffmpeg's ``ssim`` filter, both ffmpeg builds have it) with a slow reference encode
(``-preset slow -crf 14``). Last, one clip is made as the ``rendered_clips`` step makes it (render_clip with
its loudness passes and thumbnail, then the inspection and the caption check), each part's CPU time measured.
Writes bench/out/render_<resolution>.md.

    python bench/render_bench.py --resolution 720p --seconds 20
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from moving_footage import moving_footage  # noqa: E402

from clipped.media.ffmpeg import ffmpeg_exe  # noqa: E402
from clipped.render.captions_ass import build_ass  # noqa: E402
from clipped.render.crop_path import plan_crop_path  # noqa: E402
from clipped.render.inspect_clip import caption_check, inspect_clip  # noqa: E402
from clipped.render.render_clip import CRF, OUTPUT_FPS, RenderSpec, output_size, render_clip, video_filter  # noqa: E402
from clipped.types import FaceBox, FaceFrame, Word  # noqa: E402
from clipped_resources.render_options import RenderOptions  # noqa: E402

DEFAULTS = RenderOptions()  # the pipeline's encoder settings
VARIANTS = [("veryfast", CRF), ("superfast", CRF), ("superfast", CRF - 2), ("faster", CRF + 1)]
WORDS = [
    "so",
    "the",
    "thing",
    "about",
    "this",
    "story",
    "is",
    "that",
    "nobody",
    "expected",
    "what",
    "happened",
    "next",
    "at",
    "the",
    "meeting",
]


def ffmpeg_cpu(args: list[str]) -> float:
    """CPU seconds (user + system) of one ffmpeg run, from its -benchmark line."""
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-benchmark", *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    match = re.search(r"bench: utime=([\d.]+)s stime=([\d.]+)s", done.stderr)
    return float(match.group(1)) + float(match.group(2)) if match else float("nan")


def ssim_y(reference: Path, test: Path) -> float:
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(test), "-i", str(reference),
         "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"],
        capture_output=True, text=True,
    )  # fmt: skip
    match = re.search(r"SSIM Y:([\d.]+)", done.stderr)
    return float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", default="720p")
    parser.add_argument("--start", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    video = moving_footage(args.resolution, 4.0)
    import av

    with av.open(str(video)) as container:
        source_w, source_h = container.streams.video[0].width, container.streams.video[0].height
    start, end = args.start, args.start + args.seconds
    # A face drifting across the frame, as the face pass would report it.
    faces = [
        FaceFrame(
            t_s=start + i / 3,
            faces=[FaceBox(x=300 + 20 * i, y=200, w=120, h=120, score=0.9, track_id=0)],
        )
        for i in range(int(args.seconds * 3))
    ]
    words = [
        Word(word=WORDS[i % len(WORDS)], start_s=start + 0.3 * i, end_s=start + 0.3 * i + 0.25)
        for i in range(int(args.seconds / 0.3))
    ]
    width, height = output_size("9:16")
    path = plan_crop_path(faces, start, end, source_w, source_h, "9:16", [], fps=OUTPUT_FPS)
    with tempfile.TemporaryDirectory(prefix="render-bench-") as work_dir:
        work = Path(work_dir)
        script, ass = work / "crop.cmd", work / "captions.ass"
        script.write_text(path.to_sendcmd())
        ass.write_text(build_ass(words, start, end, width, height, "highlight_word"))
        chain = video_filter(path, script, ass, width, height)
        no_captions = ",".join(part for part in chain.split(",") if not part.startswith("ass="))
        seek = ["-threads", "1", "-ss", f"{start:.3f}", "-t", f"{args.seconds:.3f}", "-i", str(video), "-an"]
        common = ["-filter_threads", "1", "-map", "0:v:0"]
        stages = [
            ("decode", ffmpeg_cpu([*seek, "-map", "0:v:0", "-f", "null", "-"])),
            ("+ fps, crop, scale", ffmpeg_cpu([*seek, *common, "-vf", no_captions, "-f", "null", "-"])),
            ("+ captions (ass)", ffmpeg_cpu([*seek, *common, "-vf", chain, "-f", "null", "-"])),
        ]
        reference = work / "reference.mp4"
        ffmpeg_cpu([*seek, *common, "-vf", chain, "-c:v", "libx264", "-preset", "slow", "-crf", "14",
                    "-threads", "4", str(reference)])  # fmt: skip
        encodes = []
        for preset, crf in VARIANTS:
            out = work / f"{preset}_{crf}.mp4"
            cpu = ffmpeg_cpu([*seek, *common, "-vf", chain, "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                              "-pix_fmt", "yuv420p", "-threads", "1", str(out)])  # fmt: skip
            encodes.append((preset, crf, cpu, out.stat().st_size * 8 / args.seconds / 1e6, ssim_y(reference, out)))
        spec = RenderSpec(
            source_path=video, start_s=start, end_s=end, words=words, face_frames=faces,
            source_width=source_w, source_height=source_h,
        )  # fmt: skip
        whole_clip = clip_step_costs(spec, work)
    table = format_report(video.name, start, end, width, height, stages, encodes, whole_clip)
    print(table)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"render_{args.resolution}.md").write_text(table + "\n")


def cpu_now() -> float:
    """CPU seconds of this process (all its threads) and of the children it has waited for (ffmpeg runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def clip_step_costs(spec: RenderSpec, work: Path) -> list[tuple[str, float]]:
    """CPU seconds of each part of one clip as ``rendered_clips`` makes it, with the pipeline's settings."""
    video, thumbnail, ass = work / "clip.mp4", work / "thumbnail.jpg", work / "clip.ass"
    before = cpu_now()
    render_clip(spec, video, thumbnail, ass, threads=DEFAULTS.threads_per_clip, preset=DEFAULTS.x264_preset)
    rendered = cpu_now()
    inspect_clip(video)
    inspected = cpu_now()
    caption_check(video, ass)
    checked = cpu_now()
    return [
        ("render_clip: loudness analysis, video pass, thumbnail, loudness check", rendered - before),
        ("inspection (black, frozen, loudness)", inspected - rendered),
        ("caption check (burned captions vs libass)", checked - inspected),
    ]


def format_report(
    name: str,
    start: float,
    end: float,
    width: int,
    height: int,
    stages: list[tuple[str, float]],
    encodes: list[tuple[str, int, float, float, float]],
    whole_clip: list[tuple[str, float]],
) -> str:
    lines = [
        f"{name} {start:.0f}–{end:.0f} s → {width}×{height} {OUTPUT_FPS} fps, one thread, CPU seconds",
        "",
        "| stage | CPU s | added by this stage |",
        "|---|---|---|",
    ]
    previous = 0.0
    for stage, cpu in stages:
        lines.append(f"| {stage} | {cpu:.1f} | {cpu - previous:.1f} |")
        previous = cpu
    default = next((e for e in encodes if (e[0], e[1]) == (DEFAULTS.x264_preset, CRF)), None)
    if default is not None:
        lines.append(
            f"| + x264 {default[0]} crf {default[1]} (the default) | {default[2]:.1f} | {default[2] - previous:.1f} |"
        )
    lines += ["", "| x264 preset / crf | CPU s (whole render) | Mbit/s | SSIM Y vs slow crf 14 |", "|---|---|---|---|"]
    for preset, crf, cpu, mbps, ssim in encodes:
        lines.append(f"| {preset} / {crf} | {cpu:.1f} | {mbps:.2f} | {ssim:.4f} |")
    total = sum(cpu for _part, cpu in whole_clip)
    lines += [
        "",
        f"One clip as rendered_clips makes it ({DEFAULTS.x264_preset}, {DEFAULTS.threads_per_clip} thread):",
        "",
        "| part | CPU s | share |",
        "|---|---|---|",
    ]
    for part, cpu in whole_clip:
        lines.append(f"| {part} | {cpu:.1f} | {cpu / total:.0%} |" if total else f"| {part} | {cpu:.1f} | – |")
    lines.append(f"| **all** | **{total:.1f}** | 100% |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
