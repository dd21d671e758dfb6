"""Where a clip version lives: its folder, its two-dimensional partition key, and its stored request."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import MultiPartitionKey

from clipped.layout import ClipVersionRef, InvalidKeyError, SourceRef
from clipped.render.versions import (
    ClipVersionError,
    ClipVersionRequest,
    read_version_request,
    save_version_request,
    version_keys,
    version_output_keys,
    version_stage,
)
from clipped_resources.storage import LocalStorage

SOURCE = SourceRef("acme", "talk-0123456789")
CLIP_ID = "talk-0123456789-01-0123abcd"


def test_a_version_has_its_own_folder_beside_its_clip() -> None:
    version = ClipVersionRef(SOURCE, CLIP_ID, 2)
    assert version.folder == f"{CLIP_ID}-v2"
    assert version_keys(version) == {
        "clip.mp4": f"acme/clips/{CLIP_ID}-v2/clip.mp4",
        "thumbnail.jpg": f"acme/clips/{CLIP_ID}-v2/thumbnail.jpg",
        "captions.ass": f"acme/clips/{CLIP_ID}-v2/captions.ass",
    }
    assert version_output_keys(version)[-1] == f"acme/clips/{CLIP_ID}-v2/clip.json"
    # One stage record per version, so rendering v3 never invalidates v2's.
    assert version_stage(version).name != version_stage(ClipVersionRef(SOURCE, CLIP_ID, 3)).name


def test_partition_key_is_dagsters_two_dimensional_key_and_round_trips() -> None:
    version = ClipVersionRef(SOURCE, CLIP_ID, 12)
    assert version.partition_keys_by_dimension == {
        "source_video": "acme.talk-0123456789",
        "clip_version": f"{CLIP_ID}-v12",
    }
    # The API writes the key without Dagster's help; it must be the string Dagster makes of the same dimensions.
    assert version.partition_key == str(MultiPartitionKey(version.partition_keys_by_dimension))
    assert ClipVersionRef.from_partition_key(version.partition_key) == version
    # A clip id may itself end in something like "-v2": the last "-v<n>" is the version.
    tricky = ClipVersionRef(SOURCE, "talk-v2-01-0123abcd-v2", 3)
    assert ClipVersionRef.from_partition_key(tricky.partition_key) == tricky


@pytest.mark.parametrize(
    "key",
    [
        "acme.talk-0123456789",
        f"{CLIP_ID}-v2",
        f"{CLIP_ID}|acme.talk-0123456789",
        f"{CLIP_ID}-v0|acme.talk-0123456789",
        f"../{CLIP_ID}-v2|acme.talk-0123456789",
        f"acme.talk-0123456789|{CLIP_ID}-v2",
        f"{CLIP_ID}-v2|acme.talk-0123456789|x",
    ],
)
def test_bad_version_partition_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        ClipVersionRef.from_partition_key(key)


def test_a_version_cannot_name_a_folder_outside_the_rules() -> None:
    with pytest.raises(InvalidKeyError):
        ClipVersionRef(SOURCE, "../other", 2)


def test_the_stored_request_is_read_back_only_for_its_own_version(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    request = ClipVersionRequest(clip_id=CLIP_ID, version=2, caption_style="karaoke", aspect="1:1")
    version = save_version_request(storage, SOURCE, request)
    assert storage.exists(f"acme/clips/{CLIP_ID}-v2/request.json")
    assert read_version_request(storage, version) == request
    with pytest.raises(ClipVersionError, match="no request"):
        read_version_request(storage, ClipVersionRef(SOURCE, CLIP_ID, 3))
    # A request copied into another version's folder does not render there.
    storage.write_model(ClipVersionRef(SOURCE, CLIP_ID, 4).key("request.json"), request)
    with pytest.raises(ClipVersionError, match="is for version"):
        read_version_request(storage, ClipVersionRef(SOURCE, CLIP_ID, 4))
