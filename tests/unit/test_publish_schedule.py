from datetime import UTC, datetime, time, timedelta

import pytest

from clipped.publish.metadata import PostTooLargeError, check_media, compose_post_text
from clipped.publish.schedule import (
    PostingPlan,
    next_quota_reset,
    next_slot,
    quota_allows,
    quota_day,
    staggered_slots,
)


def test_a_slot_waits_a_cadence_after_the_last_post_and_stays_in_the_local_window():
    plan = PostingPlan(
        cadence_hours=12, window_start=time(9), window_end=time(22), timezone="Europe/Berlin", jitter_minutes=0
    )
    last = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 09:00 Berlin
    slot = next_slot(plan, not_before=datetime(2026, 11, 27, 9, 0, tzinfo=UTC), last_post_at=last, seed="p1")
    assert slot == datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # 21:00 Berlin, inside the window
    late = next_slot(plan, not_before=datetime(2026, 11, 27, 21, 30, tzinfo=UTC), last_post_at=None, seed="p1")
    assert late == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)  # next morning 09:00 Berlin


def test_the_offset_is_random_per_publication_but_reproducible_and_inside_the_jitter():
    plan = PostingPlan(jitter_minutes=30, window_start=time(0), window_end=time(23, 59))
    start = datetime(2026, 11, 27, 10, tzinfo=UTC)
    slots = {next_slot(plan, not_before=start, last_post_at=None, seed=f"pub{i}") for i in range(20)}
    assert len(slots) > 15
    assert all(start <= slot < start + timedelta(minutes=30) for slot in slots)
    assert next_slot(plan, not_before=start, last_post_at=None, seed="pub3") == next_slot(
        plan, not_before=start, last_post_at=None, seed="pub3"
    )


def test_one_clip_to_several_accounts_is_staggered():
    plan = PostingPlan(jitter_minutes=0, window_start=time(0), window_end=time(23, 59))
    start = datetime(2026, 11, 27, 10, tzinfo=UTC)
    slots = staggered_slots([("a", plan, None), ("b", plan, None), ("c", plan, None)], not_before=start, seed="clip")
    assert [slots[k] - start for k in "abc"] == [timedelta(0), timedelta(minutes=20), timedelta(minutes=40)]


def test_an_impossible_window_or_zone_is_refused():
    with pytest.raises(ValueError):
        PostingPlan(window_start=time(22), window_end=time(8))
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError
        PostingPlan(timezone="Mars/Olympus")


def test_youtube_quota_counts_uploads_per_pacific_day():
    assert quota_allows("youtube", 8_000) and not quota_allows("youtube", 8_401)
    assert quota_allows("tiktok", 10**9)
    at = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)  # 23:30 Pacific on the 27th
    assert quota_day("youtube", at).isoformat() == "2026-11-27"
    assert next_quota_reset("youtube", at) == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def test_post_text_fits_each_platform_and_youtube_gets_shorts():
    youtube = compose_post_text("youtube", "How we shipped " * 20, "What happened.", ["#launch", "launch", "dev ops"])
    assert len(youtube.title) <= 100 and youtube.title.endswith("#Shorts")
    assert youtube.caption.endswith("#launch #devops #Shorts")
    x = compose_post_text("x", "Title", "word " * 200, [f"tag{i}" for i in range(10)])
    assert len(x.caption) <= 280 and x.caption.endswith("#tag0 #tag1 #tag2 #tag3 #tag4")
    instagram = compose_post_text("instagram", "Title", "Body", [f"t{i}" for i in range(40)])
    assert instagram.caption.count("#") == 30


def test_media_over_a_platform_limit_is_refused_before_upload():
    check_media("youtube", 59.0, 10_000_000)
    with pytest.raises(PostTooLargeError, match="180 s"):
        check_media("youtube", 200.0, 10)
    with pytest.raises(PostTooLargeError, match="bytes"):
        check_media("x", 30.0, 600 * 1024**2)
