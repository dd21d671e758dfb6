"""A live URL sent as a VOD job is refused before a byte of media is fetched, with a message pointing to streams;
a finished HLS stream (with #EXT-X-ENDLIST) is still an ordinary video download."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest

from clipped.ingest.fetch import LiveSourceError, download_url
from clipped.ingest.url_policy import DisallowedUrlError
from tests.support.live_hls import LiveHlsServer, LiveMedia, make_live_media

MAX_BYTES = 50 * 1024**2


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> LiveMedia:
    return make_live_media(tmp_path_factory.mktemp("vod-guard"), duration_s=6)


def test_a_live_hls_playlist_is_refused_as_a_video(media: LiveMedia, tmp_path: Path) -> None:
    with LiveHlsServer(media, ends=False, speed=2.0) as server:
        while "#EXTINF" not in server.playlist():
            time.sleep(0.1)
        with pytest.raises(LiveSourceError, match=r"is a live stream.*clipped stream URL.*/api/streams"):
            download_url(server.url, tmp_path, max_filesize_bytes=MAX_BYTES, allow_loopback=True)
        segments = [path for _, path in server.requests if path.endswith(".ts")]
    assert segments == []  # refused from the playlist alone: no media was downloaded
    assert list(tmp_path.iterdir()) == []


def test_a_finished_hls_stream_downloads_as_a_video(media: LiveMedia, tmp_path: Path) -> None:
    with LiveHlsServer(media, ends=True, speed=1000.0, list_size=100) as server:
        time.sleep(0.1)  # a hundred seconds of source: all of it published, and the playlist closed
        assert server.playlist().rstrip().endswith("#EXT-X-ENDLIST")
        downloaded = download_url(server.url, tmp_path, max_filesize_bytes=MAX_BYTES, allow_loopback=True)
    path = getattr(downloaded, "path", downloaded)  # a Download (with the video's stamp), or the bare path
    with av.open(str(path)) as container:
        assert container.streams.video and container.streams.audio
        assert container.duration / 1e6 == pytest.approx(media.duration_s, abs=0.5)


def test_the_loopback_allowance_is_off_by_default(media: LiveMedia, tmp_path: Path) -> None:
    with LiveHlsServer(media, ends=False) as server, pytest.raises(DisallowedUrlError):
        download_url(server.url, tmp_path, max_filesize_bytes=MAX_BYTES)
