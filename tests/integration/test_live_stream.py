"""Live streams end to end on a local HLS stream read by streamlink: a planted moment becomes a clip with the right
span, a calm stream yields none, an ending stream closes cleanly, a stall and a discontinuity are survived and
recorded, and a stop request ends the recording cleanly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from clipped.live.clips import list_clips, list_moments
from clipped.live.layout import CLIPS_FILE, HEALTH_FILE, StreamRef
from clipped.live.models import (
    DetectionSettings,
    LiveClipSettings,
    LiveClipsManifest,
    RecorderSettings,
    SegmentAnalysis,
    StreamHealth,
    StreamRecord,
    StreamSettings,
)
from clipped.live.recorder import Recorder
from clipped.live.ring_buffer import live_pins, load_index
from clipped.live.service import StreamService
from clipped.live.session import LiveSession
from clipped.live.source import StreamlinkOpener
from clipped_resources.asr import FasterWhisperAsr
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import LocalStorage
from clipped_resources.streams import LocalStreams
from clipped_resources.vision import RetinaFaceVision
from tests.support.live_hls import KEYWORD, LiveHlsServer, LiveMedia, Stall, make_live_media

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("live_streams")]
WS = "ws1"
CLIP_S, POST_ROLL_S = 12.0, 4.0


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LiveMedia]:
    root = tmp_path_factory.mktemp("live-media")
    return {
        "moment": make_live_media(root / "moment", duration_s=36, moments=[16.0], face=True),
        "calm": make_live_media(root / "calm", duration_s=20),
        "faults": make_live_media(root / "faults", duration_s=30, discontinuity_at_s=21),
    }


@pytest.fixture(scope="module")
def asr() -> FasterWhisperAsr:
    return FasterWhisperAsr()


@pytest.fixture(scope="module")
def vision() -> RetinaFaceVision:
    return RetinaFaceVision()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(root=str(tmp_path / "storage"))


def settings(**recorder: float) -> StreamSettings:
    return StreamSettings(
        recorder=RecorderSettings(stall_after_s=3.0, give_up_after_s=20.0, reconnect_initial_s=0.5, **recorder),
        detection=DetectionSettings(keywords=[KEYWORD], faces=True),
        clips=LiveClipSettings(clip_s=CLIP_S, post_roll_s=POST_ROLL_S),
    )


def record_for(url: str, stream_id: str, stream_settings: StreamSettings) -> StreamRecord:
    return StreamRecord(workspace_id=WS, stream_id=stream_id, url=url, display_name="test", settings=stream_settings)


def run_session(
    storage: LocalStorage,
    server: LiveHlsServer,
    stream_id: str,
    asr: FasterWhisperAsr,
    tmp: Path,
    vision: RetinaFaceVision | None = None,
):
    record = record_for(server.url, stream_id, settings())
    session = LiveSession(
        storage, record, opener=StreamlinkOpener(allow_loopback=True), asr=asr,
        encoder=LocalStreams().live_encoder(RenderOptions()), work_dir=tmp / "work", faces=vision,
    )  # fmt: skip
    return session.run(), StreamRef(WS, stream_id)


def test_a_planted_moment_becomes_a_clip_with_the_right_span(
    media: dict[str, LiveMedia], storage: LocalStorage, asr: FasterWhisperAsr, vision: RetinaFaceVision, tmp_path: Path
) -> None:
    with LiveHlsServer(media["moment"], speed=2.0) as server:
        result, stream = run_session(storage, server, "planted", asr, tmp_path, vision)
    # Stream time 0 is the start of the first segment streamlink fetched.
    offset = server.first_fetched_segment().start_s
    planted = media["moment"].moments[0]
    phrase_s, burst_end_s = planted.at_s - offset, planted.end_s - offset

    assert result.health.state == "ended" and result.health.error is None  # the stream ended: a clean close
    assert result.health.gaps == 0 and result.health.reconnects == 0
    assert abs(result.health.live_edge_s - (media["moment"].duration_s - offset)) < 1.5

    [moment] = result.moments
    assert phrase_s <= moment.at_s <= burst_end_s, (moment.at_s, phrase_s)  # the keyword or the burst
    assert {"energy", "keyword"} <= {name for name, value in moment.scores.items() if value > 0}
    assert KEYWORD in moment.reason and "loud burst" in moment.reason
    [clip] = result.clips
    assert clip.start_s <= phrase_s and clip.end_s >= burst_end_s
    assert CLIP_S - 2.0 <= clip.end_s - clip.start_s <= CLIP_S + 3.0
    assert KEYWORD in " ".join(word.word.lower() for word in clip.words)
    with storage.local_path(clip.video_key) as video, av.open(str(video)) as container:
        picture = container.streams.video[0].codec_context
        assert (picture.width, picture.height) == (1080, 1920)
        assert container.streams.audio
        assert abs(container.duration / 1e6 - (clip.end_s - clip.start_s)) < 0.3
        step = max(1, (container.streams.video[0].frames or 360) // 5)
        decoded = enumerate(container.decode(video=0))
        frames = [frame.to_ndarray(format="bgr24") for i, frame in decoded if i % step == step // 2]
    # The portrait sits near the left edge, outside a centred 9:16 crop: the crop followed the tracked face.
    index = load_index(storage, stream)
    analyses = [storage.read_model(stream.analysis_key(s.sequence), SegmentAnalysis) for s in index.segments]
    seen = [frame for a in analyses for frame in a.faces if frame.faces]
    assert seen and all(f.faces[0].x + f.faces[0].w / 2 < 0.3 * 640 for f in seen)
    assert len(frames) >= 4 and all(vision.detect_faces(frame) for frame in frames)
    assert storage.exists(clip.thumbnail_key) and storage.exists(clip.captions_key)

    manifest = storage.read_model(stream.key(CLIPS_FILE), LiveClipsManifest)
    assert [c.clip_id for c in manifest.clips] == [clip.clip_id]
    assert manifest.clips[0].inspection["width"] == 1080  # inspected after delivery
    assert [m.status for m in list_moments(storage, stream)] == ["rendered"]
    assert live_pins(storage, stream) == []  # the window is released once cut


def test_a_calm_stream_yields_no_moment_and_closes_cleanly(
    media: dict[str, LiveMedia], storage: LocalStorage, asr: FasterWhisperAsr, tmp_path: Path
) -> None:
    with LiveHlsServer(media["calm"], speed=2.0) as server:
        result, stream = run_session(storage, server, "calm", asr, tmp_path)
    assert result.health.state == "ended" and result.health.error is None
    assert result.moments == [] and result.clips == [] and list_clips(storage, stream) == []
    index = load_index(storage, stream)
    analyses = [storage.read_model(stream.analysis_key(s.sequence), SegmentAnalysis) for s in index.segments]
    assert sum(len(a.words) for a in analyses) >= 10  # speech was heard, none of it a keyword
    assert all(a.rms_db for a in analyses)


def test_a_stall_and_a_discontinuity_are_survived_and_recorded(
    media: dict[str, LiveMedia], storage: LocalStorage, tmp_path: Path
) -> None:
    stream = StreamRef(WS, "faults")
    with LiveHlsServer(media["faults"], stalls=[Stall(at_s=8.0, for_s=7.0)]) as server:
        recorder = Recorder(storage, stream, server.url, settings(), opener=StreamlinkOpener(allow_loopback=True),
                            work_dir=tmp_path / "work")  # fmt: skip
        health = recorder.run()
    offset = server.first_fetched_segment().start_s
    index = load_index(storage, stream)

    assert health.state == "ended" and health.reconnects >= 1
    assert len(index.stalls) == 1, index.stalls  # one outage is one stall, reconnects and all
    [stall] = index.stalls
    assert stall.duration_s is not None and stall.duration_s >= 3.0
    assert abs(stall.at_s - (8.0 - offset)) <= 2.5
    # The frozen playlist slid past segments the reader never got: recorded as a gap, the clock jumps over it.
    [gap] = index.gaps
    assert gap.reason == "sequence_gap" and gap.segments and gap.segments >= 1
    assert abs(gap.duration_s - gap.segments * 1.0) < 0.1
    [discontinuity] = index.discontinuities
    assert abs(discontinuity.at_s - (21.0 - offset)) <= 2.5
    assert any(segment.discontinuity for segment in index.segments)
    # The stream clock is monotonic, back to back except across the gap, and ends where the source did.
    for previous, segment in zip(index.segments, index.segments[1:], strict=False):
        jump = segment.start_s - previous.end_s
        assert jump == pytest.approx(0.0, abs=0.01) or jump == pytest.approx(gap.duration_s, abs=0.01)
    assert abs(index.live_edge_s - (media["faults"].duration_s - offset)) < 1.5
    stored = storage.read_model(stream.key(HEALTH_FILE), StreamHealth)
    assert (stored.gaps, stored.stalls, stored.discontinuities, stored.dropped_segments) == (1, 1, 1, gap.segments)


class _Launcher:
    def launch(self, record: StreamRecord) -> None:
        pass

    def is_running(self, record: StreamRecord) -> bool | None:
        return None


@pytest.fixture
def endless(media: dict[str, LiveMedia]) -> Iterator[LiveHlsServer]:
    with LiveHlsServer(media["moment"], ends=False) as server:
        yield server


def test_a_stop_request_ends_the_recording_cleanly(
    endless: LiveHlsServer, storage: LocalStorage, tmp_path: Path
) -> None:
    service = StreamService(storage, _Launcher(), check_url=lambda url: url)
    record = service.register(WS, endless.url, settings=settings())
    stream = StreamRef(WS, record.stream_id)
    recorder = Recorder(storage, stream, record.url, record.settings, opener=StreamlinkOpener(allow_loopback=True),
                        work_dir=tmp_path / "work")  # fmt: skip
    outcome: dict[str, StreamHealth] = {}
    thread = threading.Thread(target=lambda: outcome.update(health=recorder.run()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while recorder.health.segments < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert recorder.health.segments >= 3
    asked = time.monotonic()
    status = service.stop(WS, record.stream_id)  # the way the API and the CLI's supervisor ask
    assert status.desired == "stopped"
    thread.join(timeout=15)
    assert not thread.is_alive() and time.monotonic() - asked < 10
    health = outcome["health"]
    assert health.state == "stopped" and health.error is None
    assert service.get(WS, record.stream_id).state == "stopped"
    index = load_index(storage, stream)
    last = index.segments[-1]
    with storage.local_path(last.key) as path, av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 0  # the last segment was finished, not cut off
