"""Benchmark: latency of live clips, from a moment reaching the live edge to its rendered clip in storage.

A local live HLS stream (tests/support/live_hls.py: 720p test pattern, talk underneath, and at each planted moment
a spoken keyword, a loud burst and a flash) is played out in real time on 127.0.0.1 and recorded by the in-process
fast path (``clipped.live.session``: streamlink → ffmpeg segments → detection → render) with the default stream
settings: 30 s clips ending 8 s after the moment, tiny.en, x264 at the streams resource's preset with every core.
A portrait sits near the stream's left edge and faces are tracked (2 frames/s) so the crop follows it, as the
streams resource does by default; ``--centre`` measures without face tracking.

For each moment the latency is measured from the instant the stream's live edge passed the moment's time (the
wall time the HLS server first listed the segment holding it) to the instant its clip.mp4 was in storage; the
clip's post-roll (8 s) is inside that latency, as it has to be recorded before the clip can be cut.

    python bench/live_latency.py --moments 5

Prints a markdown table (also written to bench/out/live_latency.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_MOMENT_S = 30.0  # a clip needs its pre-roll, and the energy baseline some talk to learn from
SPACING_S = 40.0  # one clip each: further apart than a clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moments", type=int, default=5)
    parser.add_argument("--size", default="1280x720", help="the stream's frame size")
    parser.add_argument("--centre", action="store_true", help="no face tracking: the crop holds the centre")
    args = parser.parse_args()
    faces = not args.centre

    from clipped.live.models import Moment, StreamRecord
    from clipped.live.session import LiveSession, QuietListener
    from clipped_resources.asr import FasterWhisperAsr
    from clipped_resources.render_options import RenderOptions
    from clipped_resources.storage import LocalStorage
    from clipped_resources.streams import LocalStreams
    from clipped_resources.vision import RetinaFaceVision
    from tests.support.live_hls import KEYWORD, LiveHlsServer, make_live_media

    class Clock(QuietListener):
        def __init__(self) -> None:
            self.detected: dict[str, float] = {}
            self.stored: dict[str, float] = {}

        def on_moment(self, moment: Moment) -> None:
            self.detected[moment.moment_id] = time.monotonic()

        def on_clip(self, clip) -> None:
            self.stored[clip.moment_id] = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="clipped-live-bench-") as work:
        work_dir = Path(work)
        moments = [FIRST_MOMENT_S + index * SPACING_S for index in range(args.moments)]
        duration = moments[-1] + SPACING_S / 2
        print(f"making a {duration:.0f} s {args.size} stream with {len(moments)} planted moments", flush=True)
        media = make_live_media(work_dir / "media", duration_s=duration, moments=moments, size=args.size, face=faces)
        streams = LocalStreams(
            allow_loopback_sources=True, keywords=[KEYWORD], work_dir=str(work_dir / "live"), track_faces=faces
        )
        storage = LocalStorage(root=str(work_dir / "storage"))
        record = StreamRecord(workspace_id="bench", stream_id="latency", url="", display_name="bench",
                              settings=streams.stream_settings())  # fmt: skip
        clock = Clock()
        loads = []
        with LiveHlsServer(media) as server:
            record.url = server.url
            session = LiveSession(
                storage, record, opener=streams.opener(), asr=FasterWhisperAsr(),
                encoder=streams.live_encoder(RenderOptions()), work_dir=work_dir / "session", listener=clock,
                faces=RetinaFaceVision() if faces else None,
            )  # fmt: skip
            print(f"recording {server.url} in real time ({duration:.0f} s)...", flush=True)
            started = time.monotonic()
            result = session.run()
            loads.append(os.getloadavg())
        offset = server.first_fetched_segment().start_s

    rows, latencies = [], []
    for moment in result.moments:
        clip = next((c for c in result.clips if c.moment_id == moment.moment_id), None)
        edge_at = server.published_at(moment.at_s + offset)
        planted = min(media.moments, key=lambda m: abs(m.at_s - offset - moment.at_s))
        latency = clock.stored[moment.moment_id] - edge_at if clip else None
        if latency is not None:
            latencies.append(latency)
        rows.append(
            f"| {moment.moment_id} | {planted.at_s - offset:.1f} | {moment.at_s:.1f} | {moment.score:.2f} "
            f"| {clock.detected[moment.moment_id] - edge_at:.1f} | {clip.render_s if clip else float('nan'):.1f} "
            f"| {f'{latency:.1f}' if latency is not None else 'no clip'} |"
        )
    found = {min(media.moments, key=lambda m: abs(m.at_s - offset - x.at_s)).at_s for x in result.moments}
    cpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"Live latency, {len(media.moments)} planted moments in a {duration:.0f} s {args.size} stream "
        f"(real time; {cpu} cores; faces {'tracked' if faces else 'off (--centre)'}; "
        f"load average at the end {loads[-1][0]:.1f}; "
        f"wall {time.monotonic() - started:.0f} s)",
        "",
        "| moment | planted at (stream s) | found at | score | detected after (s) | render (s) "
        "| clip in storage after (s) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"found {len(found)} of {len(media.moments)} planted moments, {len(result.moments) - len(found)} others; "
        f"{len(result.clips)} clips; stream {result.health.state}, {result.health.gaps} gaps",
    ]
    if latencies:
        lines.append(
            f"**latency: median {statistics.median(latencies):.1f} s, worst {max(latencies):.1f} s** "
            f"(target < 45 s; includes the 8 s post-roll)"
        )
    report = "\n".join(lines)
    print(report)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "live_latency.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
