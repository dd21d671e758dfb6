"""A live HLS stream on 127.0.0.1 for the live-stream tests and the latency bench.

The media is made once with ffmpeg (a moving test pattern; a bed of LibriVox speech; at each planted moment a
spoken phrase with a known keyword, a loud burst and a flash of colour) and cut into 1 s MPEG-TS segments. The
server then plays it out as a live stream: segment ``i`` appears in the playlist when the wall clock passes its
end (as an encoder at the live edge would publish it), the playlist holds the last ``list_size`` segments, has no
``#EXT-X-ENDLIST`` until the stream ends, and drops old segments. Serving pre-cut segments by the clock instead of
running ffmpeg in real time costs no CPU while the test runs and makes faults exact: a stall freezes the playlist
for a while (segments produced meanwhile slide out of the window, so the reader loses them), a discontinuity
splices in segments whose timestamps restart (``#EXT-X-DISCONTINUITY``), and the request log says which segment
the reader started from, so a moment's time in the stream is known to the frame.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import soundfile

from clipped.media.ffmpeg import run_ffmpeg

DATA = Path(__file__).resolve().parent.parent / "data"
FPS = 25
SEGMENT_S = 1.0
# "Glue the sheet to the dark blue background." in Piper's Harvard reading (tiny.en hears it clearly).
PHRASE_FILE, PHRASE_FROM_S, PHRASE_TO_S = "piper_harvard1.wav", 2.3, 4.4
KEYWORD = "background"
BURST_AFTER_S, BURST_S = 2.2, 1.2  # the loud burst (a crowd's roar) follows the phrase
BED_FILE = "librivox_austen_5utt.wav"
FACE_FILE = "astronaut.png"
BED_VOLUME = 0.45  # the talk goes on ~7 dB under the phrase; the burst stands ~15 dB above it


@dataclass(frozen=True)
class PlantedMoment:
    """Where a planted moment lies in the source: the phrase starts at ``at_s``; the burst ends at ``end_s``."""

    at_s: float

    @property
    def keyword_s(self) -> float:
        return self.at_s + 1.5  # "background" starts about 1.46 s into the phrase

    @property
    def end_s(self) -> float:
        return self.at_s + BURST_AFTER_S + BURST_S


@dataclass(frozen=True)
class HlsSegment:
    name: str
    start_s: float  # in the source's own timeline (continuous across a discontinuity)
    duration_s: float
    discontinuity: bool = False


@dataclass
class LiveMedia:
    folder: Path
    segments: list[HlsSegment]
    moments: list[PlantedMoment]
    duration_s: float


def make_live_media(
    folder: Path,
    *,
    duration_s: float,
    moments: list[float] = (),  # type: ignore[assignment]
    discontinuity_at_s: float | None = None,
    size: str = "640x360",
    face: bool = False,
) -> LiveMedia:
    """Encode the stream's media into ``folder`` as 1 s TS segments (and ``source.mp4``, the whole of it).

    ``moments`` are the planted phrase starts (seconds); ``discontinuity_at_s`` (a whole second) splices the
    rest of the stream in as a separately muxed part, so its timestamps restart there. ``face`` puts the bundled
    astronaut portrait near the left edge (its face centre at ~17 % of the width, outside a centred 9:16 crop).
    """
    folder.mkdir(parents=True, exist_ok=True)
    planted = [PlantedMoment(at) for at in moments]
    source = folder / "source.mp4"
    _encode_source(source, duration_s, planted, size, face)
    parts = [(0.0, discontinuity_at_s or duration_s)]
    if discontinuity_at_s is not None:
        parts.append((discontinuity_at_s, duration_s))
    segments: list[HlsSegment] = []
    for index, (start, end) in enumerate(parts):
        prefix = f"p{index}_"
        run_ffmpeg([
            "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i", str(source), "-c", "copy",
            "-f", "hls", "-hls_time", f"{SEGMENT_S}", "-hls_list_size", "0", "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(folder / f"{prefix}%05d.ts"), str(folder / f"{prefix}index.m3u8"),
        ])  # fmt: skip
        offset = start
        for line_index, (duration, name) in enumerate(_playlist_entries(folder / f"{prefix}index.m3u8")):
            segments.append(HlsSegment(name, offset, duration, discontinuity=index > 0 and line_index == 0))
            offset += duration
    return LiveMedia(folder=folder, segments=segments, moments=planted, duration_s=duration_s)


def _encode_source(out: Path, duration_s: float, moments: list[PlantedMoment], size: str, face: bool) -> None:
    bed_s = soundfile.info(str(DATA / BED_FILE)).duration
    loops = math.ceil(duration_s / bed_s)
    quiet = "+".join(f"between(t,{m.at_s - 0.4:.2f},{m.end_s + 0.3:.2f})" for m in moments) or "0"
    burst = "+".join(f"between(t,{m.at_s + BURST_AFTER_S:.2f},{m.end_s:.2f})" for m in moments) or "0"
    flash = "+".join(f"between(t,{m.at_s + BURST_AFTER_S:.2f},{m.end_s:.2f})" for m in moments) or "0"
    inputs = [
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={FPS}:duration={duration_s}",
        "-stream_loop", str(loops), "-i", str(DATA / BED_FILE),
        "-f", "lavfi", "-i", f"anoisesrc=color=white:amplitude=0.9:duration={duration_s}:sample_rate=48000",
        "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.004:duration={duration_s}:sample_rate=48000",
        "-i", str(DATA / PHRASE_FILE),
    ]  # fmt: skip
    picture = f"[0:v]drawbox=x=0:y=0:w=iw:h=ih:color=0xd02020:t=fill:enable='{flash}'"
    if face:
        inputs += ["-loop", "1", "-framerate", str(FPS), "-t", f"{duration_s}", "-i", str(DATA / FACE_FILE)]
        width, height = (int(side) for side in size.split("x"))
        picture += f"[bg];[5:v]scale=-2:{round(height * 0.6)}[face];[bg][face]overlay=x={round(width * 0.03)}:y=(H-h)/2"
    graph = [
        f"{picture},format=yuv420p[v]",
        f"[1:a]aresample=48000,atrim=0:{duration_s},volume='if({quiet},0,{BED_VOLUME})':eval=frame[bed]",
        f"[2:a]volume='if({burst},1,0)':eval=frame[burst]",
    ]
    mix = ["[bed]", "[burst]", "[3:a]"]
    if moments:
        graph.append(
            f"[4:a]aresample=48000,atrim={PHRASE_FROM_S}:{PHRASE_TO_S},asetpts=PTS-STARTPTS,"
            f"volume=0.6,asplit={len(moments)}" + "".join(f"[ph{i}]" for i in range(len(moments)))
        )
        for index, moment in enumerate(moments):
            graph.append(f"[ph{index}]adelay={round(moment.at_s * 1000)}:all=1[phd{index}]")
            mix.append(f"[phd{index}]")
    graph.append(f"{''.join(mix)}amix=inputs={len(mix)}:duration=first:normalize=0,atrim=0:{duration_s}[a]")
    run_ffmpeg([
        *inputs, "-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0",
        "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-t", f"{duration_s}", str(out),
    ])  # fmt: skip


def _playlist_entries(playlist: Path) -> list[tuple[float, str]]:
    entries, duration = [], 0.0
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line.removeprefix("#EXTINF:").split(",")[0])
        elif line and not line.startswith("#"):
            entries.append((duration, line.strip()))
    return entries


@dataclass
class Stall:
    """The playlist stops changing for ``for_s`` seconds once the source reaches ``at_s`` (a CDN that froze)."""

    at_s: float
    for_s: float


@dataclass
class LiveHlsServer:
    """Plays ``media`` out as a live HLS stream from ``start()`` on; see the module docstring."""

    media: LiveMedia
    list_size: int = 6
    ends: bool = True  # append ENDLIST once the last segment is published (else the playlist just stops moving)
    stalls: list[Stall] = field(default_factory=list)
    speed: float = 1.0
    requests: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, path)
    started_at: float = 0.0  # monotonic
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/live/index.m3u8"

    def start(self) -> LiveHlsServer:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="live-hls-server").start()
        self.started_at = time.monotonic()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> LiveHlsServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def source_clock(self, now: float | None = None) -> float:
        """How far into the source the encoder is (seconds of media produced), stalls included."""
        return ((now if now is not None else time.monotonic()) - self.started_at) * self.speed

    def published_at(self, source_s: float) -> float:
        """Monotonic time at which the segment holding ``source_s`` was first listed in the playlist."""
        segment = next(s for s in self.media.segments if s.start_s + s.duration_s > source_s)
        end = segment.start_s + segment.duration_s
        visible = end
        for stall in self.stalls:
            if stall.at_s <= end < stall.at_s + stall.for_s:
                visible = stall.at_s + stall.for_s
        return self.started_at + visible / self.speed

    def first_fetched_segment(self) -> HlsSegment:
        """The first media segment the reader asked for: the stream's time 0 lies at its start."""
        names = [path.rsplit("/", 1)[-1] for _, path in self.requests if path.endswith(".ts")]
        by_name = {segment.name: segment for segment in self.media.segments}
        return by_name[names[0]]

    def playlist(self, now: float | None = None) -> str:
        clock = self.source_clock(now)
        for stall in self.stalls:
            if stall.at_s <= clock < stall.at_s + stall.for_s:
                clock = stall.at_s
        published = [i for i, s in enumerate(self.media.segments) if s.start_s + s.duration_s <= clock + 1e-6]
        first = max(0, len(published) - self.list_size)
        window = published[first:]
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{math.ceil(SEGMENT_S)}",
            f"#EXT-X-MEDIA-SEQUENCE:{window[0] if window else 0}",
        ]
        for index in window:
            segment = self.media.segments[index]
            if segment.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            lines += [f"#EXTINF:{segment.duration_s:.6f},", segment.name]
        if self.ends and len(published) == len(self.media.segments):
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"


def _handler_for(server: LiveHlsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # (the stdlib's name)
            server.requests.append((time.monotonic(), self.path))
            name = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
            if name == "index.m3u8":
                body, kind = server.playlist().encode(), "application/vnd.apple.mpegurl"
            elif name.endswith(".ts") and (server.media.folder / name).is_file() and "/" not in name:
                body, kind = (server.media.folder / name).read_bytes(), "video/mp2t"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
