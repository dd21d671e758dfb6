"""Where a live stream's files live: ``{workspace}/streams/{stream}/...``; its clips under ``{workspace}/clips/``.

A stream's partition key (Dagster's ``live_stream`` partitions) is ``{workspace}.{stream}``, like a source video's,
so every step finds the workspace prefix from the key alone.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from clipped.layout import WORKSPACE_ID, InvalidKeyError, check_workspace_id

STREAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
MOMENT_ID = re.compile(r"^m[0-9]{4,6}$")
LIVE_STREAM_PARTITIONS = "live_stream"
LIVE_MOMENT_PARTITIONS = "live_moment"

STREAM_FILE = "stream.json"  # the request: URL, settings, who asked, what state is wanted
HEALTH_FILE = "health.json"  # the recorder's heartbeat
INDEX_FILE = "index.json"  # the ring buffer: segments kept, gaps, stalls, discontinuities
DETECTOR_FILE = "detector.json"  # running baselines and pending events between segments
CLIPS_FILE = "clips.json"  # the stream's clip manifest, rebuilt from clips/ after each clip
STOP_FILE = "control/stop.json"
CHAT_FILE = "chat.jsonl"


@dataclass(frozen=True)
class StreamRef:
    """One recorded stream of one workspace."""

    workspace_id: str
    stream_id: str

    def __post_init__(self) -> None:
        check_workspace_id(self.workspace_id)
        if not STREAM_ID.match(self.stream_id):
            raise InvalidKeyError(f"stream id {self.stream_id!r} must be lowercase letters, digits or '-'")

    @property
    def partition_key(self) -> str:
        return f"{self.workspace_id}.{self.stream_id}"

    @property
    def prefix(self) -> str:
        return f"{self.workspace_id}/streams/{self.stream_id}"

    def key(self, name: str) -> str:
        """Storage key of a file of this stream."""
        return f"{self.prefix}/{name}"

    def segment_key(self, sequence: int) -> str:
        return self.key(f"segments/{sequence:08d}.ts")

    def analysis_key(self, sequence: int) -> str:
        return self.key(f"analysis/{sequence:08d}.json")

    def moment_key(self, moment_id: str) -> str:
        """One moment's record: written by whoever found it, updated by whoever clips it."""
        return self.key(f"moments/{moment_id}.json")

    def clip_record_key(self, moment_id: str) -> str:
        return self.key(f"clips/{moment_id}.json")

    def clip_id(self, moment_id: str) -> str:
        return f"{self.stream_id}-{moment_id}"

    def clip_key(self, moment_id: str, name: str) -> str:
        """Storage key of a file of the clip cut at one moment (beside the VOD clips, so the review app finds it)."""
        return f"{self.workspace_id}/clips/{self.clip_id(moment_id)}/{name}"

    @classmethod
    def from_partition_key(cls, partition_key: str) -> StreamRef:
        workspace_id, _, stream_id = partition_key.partition(".")
        if not WORKSPACE_ID.match(workspace_id) or not STREAM_ID.match(stream_id):
            raise InvalidKeyError(f"partition key {partition_key!r} is not '<workspace>.<stream>'")
        return cls(workspace_id, stream_id)


def new_stream_id(display_name: str, now: datetime | None = None) -> str:
    """A readable, unique id: a slug of the channel or file name, the UTC start time and a random suffix.

    The same URL recorded twice is two streams; user strings never become keys as they are.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")[:32].strip("-") or "stream"
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{slug}-{stamp}-{secrets.token_hex(2)}"


def moment_id(number: int) -> str:
    return f"m{number:04d}"
