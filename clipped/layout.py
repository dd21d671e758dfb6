"""Where things live: partition keys and storage keys.

A partition key is ``{workspace_id}.{video_id}`` so every step can find its workspace prefix from the key
alone; storage keys are always ``{workspace_id}/sources/{video_id}/...`` or ``{workspace_id}/clips/{clip_id}/...``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

WORKSPACE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
VIDEO_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
DEFAULT_WORKSPACE = "local"


class InvalidKeyError(ValueError):
    """A partition or storage key that does not follow the layout."""


@dataclass(frozen=True)
class SourceRef:
    """One source video of one workspace: the unit a partition stands for."""

    workspace_id: str
    video_id: str

    @property
    def partition_key(self) -> str:
        return f"{self.workspace_id}.{self.video_id}"

    def key(self, name: str) -> str:
        """Storage key of a file that belongs to this source."""
        return f"{self.workspace_id}/sources/{self.video_id}/{name}"

    def clip_key(self, clip_id: str, name: str) -> str:
        """Storage key of a file that belongs to one clip of this source."""
        return f"{self.workspace_id}/clips/{clip_id}/{name}"

    @classmethod
    def from_partition_key(cls, partition_key: str) -> SourceRef:
        workspace_id, _, video_id = partition_key.partition(".")
        if not WORKSPACE_ID.match(workspace_id) or not VIDEO_ID.match(video_id):
            raise InvalidKeyError(f"partition key {partition_key!r} is not '<workspace>.<video>'")
        return cls(workspace_id, video_id)


def check_workspace_id(workspace_id: str) -> str:
    if not WORKSPACE_ID.match(workspace_id):
        raise InvalidKeyError(f"workspace id {workspace_id!r} must be lowercase letters, digits, '-' or '_'")
    return workspace_id


def video_id_for(display_name: str, identity: str) -> str:
    """A readable, stable id: a slug of the name plus a short hash of what identifies the source.

    User strings never become file names as-is: the slug keeps only ``[a-z0-9-]``.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")[:40].strip("-") or "video"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    return f"{slug}-{digest}"
