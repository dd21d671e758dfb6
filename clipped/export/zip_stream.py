"""A zip archive written as a stream of chunks, so a bundle of clips is never held in memory or on disk whole.

``zipfile`` writes to an unseekable sink with data descriptors after each member (sizes and CRCs it could not
know up front); the central directory at the end lists every member, so any unzip tool reads the result.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class ZipMember:
    """One file of the archive: ``text`` (compressed) or a local file opened only when its turn comes
    (stored as is: MP4 does not compress)."""

    name: str
    text: str | None = None
    open_file: Callable[[], contextlib.AbstractContextManager[Path]] | None = None


class _ChunkSink(io.RawIOBase):
    """Collects what zipfile writes until the generator hands it on; reports a position but cannot seek."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def stream_zip(members: Iterable[ZipMember], chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The archive of ``members`` in order, as chunks of about ``chunk_bytes`` (memory stays near one chunk)."""
    sink = _ChunkSink()
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:
        for member in members:
            if member.text is not None:
                archive.writestr(member.name, member.text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
            elif member.open_file is not None:
                with member.open_file() as path, path.open("rb") as source:
                    info = zipfile.ZipInfo.from_file(path, member.name)
                    info.compress_type = zipfile.ZIP_STORED
                    with archive.open(info, mode="w", force_zip64=True) as target:
                        while block := source.read(chunk_bytes):
                            target.write(block)
                            if chunk := sink.take():
                                yield chunk
            else:
                raise ValueError(f"zip member {member.name!r} has neither text nor a file")
            if chunk := sink.take():
                yield chunk
    if chunk := sink.take():  # the central directory
        yield chunk
