"""Safe names for inbox files dropped under names the storage key rules refuse."""

import pytest

from clipped.inbox.naming import candidate_names, name_hash, printable_name, safe_name
from clipped.layout import check_key


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("My Stream (Nov 20).mp4", "my-stream-nov-20.mp4"),
        ("Café Ünïcode 日本.MP4", "cafe-unicode.mp4"),
        ("Q&A  -- final!!.mov", "q-a-final.mov"),
        ("..\\..\\evil.mp4", "evil.mp4"),
        ("日本語.mp4", "video.mp4"),
        ("notes version 2", "notes-version-2"),
        ("talk.final cut", "talk-final-cut"),
        ("talk.mp４", "talk.mp4"),
        ("caf\udce9 talk.mp4", "caf-talk.mp4"),  # a byte that is not UTF-8 (surrogate-escaped by the OS layer)
        ("🎬🎥", None),
        ("()", None),
        ("日本語", None),
    ],
)
def test_safe_name_is_an_ascii_slug_and_lower_case_extension(raw: str, safe: str | None) -> None:
    assert safe_name(raw) == safe
    if safe is not None:
        assert check_key(f"ws/inbox/{safe}")


def test_collision_variants_carry_a_hash_of_the_original_name() -> None:
    first, second, third = list(candidate_names("My Talk.mp4", "my-talk.mp4"))[:3]
    digest = name_hash("My Talk.mp4")
    assert (first, second, third) == ("my-talk.mp4", f"my-talk-{digest}.mp4", f"my-talk-{digest}-2.mp4")
    assert name_hash("My Talk.mp4") != name_hash("my talk.mp4") and len(digest) == 8
    assert list(candidate_names("x y", "x-y"))[1] == f"x-y-{name_hash('x y')}"


def test_printable_name_holds_undecodable_bytes_as_replacement_characters() -> None:
    assert printable_name("caf\udce9.mp4") == "caf\ufffd.mp4"
    assert printable_name("Café.mp4") == "Café.mp4"
