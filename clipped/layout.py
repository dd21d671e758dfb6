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
# "=" is allowed after the first character for hive-style partition folders (day=2026-11-27) that DuckDB reads.
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]*$")
DEFAULT_WORKSPACE = "local"
# The one folder whose objects may have names outside the key rules: people drop files there by hand.
INBOX_FOLDER = "inbox"

# Stage outputs, by file name under a source's folder (``SourceRef.key(name)``).
REQUEST_FILE = "request.json"
SOURCE_FILE = "source.mp4"
AUDIO_FILE = "audio.wav"
INFO_FILE = "source.json"
TRANSCRIPT_FILE = "transcript.json"
SCENES_FILE = "scenes.json"
AUDIO_FEATURES_FILE = "audio_features.json"
CANDIDATES_FILE = "candidates.json"
RANKING_FILE = "ranking.json"  # what ranked and wrote the candidates, its tokens and cost
SUMMARY_FILE = "summary.json"
FACES_FILE = "faces.json"
RENDERED_CLIPS_FILE = "rendered_clips.json"
# A rendered clip's files, by file name under its folder (``SourceRef.clip_key(clip_id, name)``).
CLIP_FILES = ("clip.mp4", "thumbnail.jpg", "captions.ass")
VARIATIONS_FILE = "variations.json"  # the variants of a clip's moment and how unique each is
# A clip version's own files beside its CLIP_FILES (``ClipVersionRef.key(name)``): what was asked, then the
# rendered version as the manifest describes a clip (keys, window, inspection), written after its files.
VERSION_REQUEST_FILE = "request.json"
VERSION_CLIP_FILE = "clip.json"

# Partitioning names shared by the asset graph and the review API (which must not import the asset modules).
SOURCE_VIDEO_PARTITIONS = "source_video"
CLIP_VERSION_PARTITIONS = "clip_version"
# A clip version's folder: the rendered clip's id, then "-v" and the version number (2 and up for re-renders).
_CLIP_VERSION_FOLDER = re.compile(r"^(?P<clip_id>[a-z0-9][a-z0-9-]{0,150})-v(?P<version>[1-9][0-9]{0,4})$")


class InvalidKeyError(ValueError):
    """A partition or storage key that does not follow the layout (absolute, '..', odd characters, wrong
    workspace): the one error type of the key rules."""


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


@dataclass(frozen=True)
class ClipVersionRef:
    """One version of one rendered clip: clip ``clip_id`` of the source's rendered_clips, rendered as ``version``.

    Its files live in their own folder, ``{workspace}/clips/{clip_id}-v{version}/``, so a new version never
    overwrites an old one. As a partition it has two dimensions: the source (``source_video``) and the version
    folder (``clip_version``), so Dagster can map it onto the source's ``rendered_clips`` partition.
    """

    source: SourceRef
    clip_id: str
    version: int

    def __post_init__(self) -> None:
        if not _CLIP_VERSION_FOLDER.match(self.folder):
            raise InvalidKeyError(f"clip version {self.clip_id!r} v{self.version} is not a valid version folder")

    @property
    def folder(self) -> str:
        return f"{self.clip_id}-v{self.version}"

    def key(self, name: str) -> str:
        """Storage key of a file of this version."""
        return self.source.clip_key(self.folder, name)

    @property
    def partition_keys_by_dimension(self) -> dict[str, str]:
        return {SOURCE_VIDEO_PARTITIONS: self.source.partition_key, CLIP_VERSION_PARTITIONS: self.folder}

    @property
    def partition_key(self) -> str:
        """The two-dimensional key as one string, the way Dagster writes it: the dimensions' keys in the order of
        the dimension names, joined by ``|`` (a character no source or version key may contain)."""
        keys = self.partition_keys_by_dimension
        return "|".join(keys[name] for name in sorted(keys))

    @classmethod
    def from_partition_key(cls, partition_key: str) -> ClipVersionRef:
        names = sorted((SOURCE_VIDEO_PARTITIONS, CLIP_VERSION_PARTITIONS))
        parts = partition_key.split("|")
        if len(parts) != len(names):
            raise InvalidKeyError(f"partition key {partition_key!r} is not '<clip>-v<n>|<workspace>.<video>'")
        keys = dict(zip(names, parts, strict=True))
        folder = _CLIP_VERSION_FOLDER.match(keys[CLIP_VERSION_PARTITIONS])
        if folder is None:
            raise InvalidKeyError(f"partition key {partition_key!r} does not name a clip version")
        source = SourceRef.from_partition_key(keys[SOURCE_VIDEO_PARTITIONS])
        return cls(source, folder["clip_id"], int(folder["version"]))


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


def check_key(key: str, workspace_id: str | None = None) -> str:
    """Validate a storage key; with ``workspace_id``, also require that it lies in that workspace."""
    parts = key.split("/")
    if not key or any(not _KEY_SEGMENT.match(part) or part in {".", ".."} for part in parts):
        raise InvalidKeyError(f"invalid storage key {key!r}")
    if workspace_id is not None and parts[0] != workspace_id:
        raise InvalidKeyError(f"storage key {key!r} is outside workspace {workspace_id!r}")
    return key


def check_raw_inbox_key(raw_key: str) -> tuple[str, str]:
    """Split a raw inbox key (a name as someone dropped it) into its validated folder and its name.

    The folder must be a valid key at or below ``{ws}/inbox``; the name may hold anything the key rules refuse
    (spaces, unicode, parentheses) except what could address another object: ``/``, NUL, ``.`` and ``..``.
    """
    folder, _, name = raw_key.rpartition("/")
    parts = folder.split("/")
    try:
        check_key(folder)
    except InvalidKeyError:
        raise InvalidKeyError(f"raw key {raw_key!r} is not in an inbox") from None
    if len(parts) < 2 or parts[1] != INBOX_FOLDER:
        raise InvalidKeyError(f"raw key {raw_key!r} is not in an inbox")
    if not name or "\0" in name or name in {".", ".."}:
        raise InvalidKeyError(f"raw inbox name {name!r} cannot be used")
    return folder, name
