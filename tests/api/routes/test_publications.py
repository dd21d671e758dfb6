"""Scheduling approved clips to connected accounts, the queue, unschedule and publish now, through the API against
the local fake TikTok and X (and YouTube and Instagram: connect, schedule, publish, status). Publish now runs for
real: in process (the token-leak checks read every log line) and as a `publication_job` run started by the app's
embedded launcher."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from api.models import Clip, new_id
from clipped.publish.publishing import publish_publication
from clipped.publish.records import Publication
from tests.api.conftest import (
    Account,
    ApiHarness,
    RecordingLauncher,
    fake_platform_env,
    make_harness,
    make_test_video,
)
from tests.api.members import add_member
from tests.api.routes.test_accounts import PUBLIC_URL, come_back, connect, consent, start_connect
from tests.api.world import FAKE_JPEG, add_clip, add_finished_job
from tests.support.fake_instagram import CLIENT_SECRET as INSTAGRAM_CLIENT_SECRET
from tests.support.fake_instagram import FakeInstagram, fake_instagram_fixture  # noqa: F401  (provides fake_instagram)
from tests.support.fake_tiktok import FakeTikTok, fake_tiktok_fixture  # noqa: F401  (provides fake_tiktok)
from tests.support.fake_x import FakeX, fake_x_fixture  # noqa: F401  (provides fake_x)
from tests.support.fake_youtube import FakeYouTube, fake_youtube  # noqa: F401  (the fixture)

RUN_TIMEOUT_S = 180


@contextmanager
def browser_side() -> Iterator[None]:
    """The browser's visit to the platform's consent page happens outside the server: keep its HTTP client's
    log lines (the redirect carries the authorization code) out of the captured server log. Nothing else runs
    meanwhile (the fakes log nothing)."""
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


class InlineLauncher(RecordingLauncher):
    """Publish now without Dagster: the attempt runs in this process, inside the request (for tests about the
    API and its logs, not the run)."""

    state = None

    def launch_publication(self, publication: Publication) -> str:
        run_id = super().launch_publication(publication)
        publisher = self.state.publisher
        publish_publication(
            publication.id,
            store=publisher.store(),
            vault=publisher.vault(),
            adapters=publisher.adapters(),
            media=self.state.storage,
            owner=run_id,
        )
        return run_id


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_video(tmp_path_factory.mktemp("publish") / "clip.mp4")


def publishing_harness(
    api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiktok: FakeTikTok, x: FakeX, launcher
) -> ApiHarness:
    for name, value in fake_platform_env(PUBLIC_URL, tiktok=tiktok, x=x).items():
        monkeypatch.setenv(name, value)
    return make_harness(api_env, f"sqlite:///{tmp_path / 'app.db'}", launcher)


@pytest.fixture
def api(api_env, tmp_path, monkeypatch, fake_tiktok: FakeTikTok, fake_x: FakeX) -> Iterator[ApiHarness]:
    launcher = InlineLauncher()
    harness = publishing_harness(api_env, tmp_path, monkeypatch, fake_tiktok, fake_x, launcher)
    launcher.state = harness.state
    with harness.client:
        yield harness


def seed_clip(
    api: ApiHarness,
    owner: Account,
    video: Path,
    *,
    status: str = "approved",
    title: str = "The best minute of the talk",
    description: str = "Why short clips work",
    hashtags: tuple[str, ...] = ("talks", "clipped"),
) -> str:
    """A finished job with one clip whose first version is ``video``; the clip's id."""
    ws = owner.workspace_id
    name = new_id("v").replace("_", "-")
    folder = f"{ws}/clips/{name}-01"
    api.state.storage.write_bytes(f"{folder}/clip.mp4", video.read_bytes())
    api.state.storage.write_bytes(f"{folder}/thumbnail.jpg", FAKE_JPEG)
    with api.state.sessions() as session:
        job = add_finished_job(session, ws, owner.user_id, name, "seeded")
        clip = add_clip(
            session,
            job.id,
            ws,
            f"{name}-01",
            video_key=f"{folder}/clip.mp4",
            thumbnail_key=f"{folder}/thumbnail.jpg",
            title=title,
        )
        clip.end_s, clip.status, clip.description, clip.hashtags = 2.0, status, description, list(hashtags)
        session.commit()
        return clip.id


def account_ids(api: ApiHarness, owner: Account) -> dict[str, str]:
    listed = api.client.get(f"/api/workspaces/{owner.workspace_id}/accounts", headers=owner.headers).json()
    return {account["platform"]: account["id"] for account in listed}


def schedule(api: ApiHarness, member: Account, clip_id: str, ids: list[str], **body):
    return api.client.post(
        f"/api/clips/{clip_id}/publications",
        headers={**member.headers, **body.pop("headers", {})},
        json={"account_ids": ids, **body},
    )


def set_plan(api: ApiHarness, admin: Account, account_id: str, **plan) -> None:
    changed = api.client.patch(f"/api/accounts/{account_id}", headers=admin.headers, json={"plan": plan})
    assert changed.status_code == 200, changed.text


def test_scheduling_rules_and_staggered_slots(api: ApiHarness, video: Path) -> None:
    owner = api.register()
    connect(api, owner, "tiktok")
    connect(api, owner, "x")
    ids = account_ids(api, owner)
    set_plan(api, owner, ids["tiktok"], window_start="09:00", window_end="17:00", timezone="America/New_York")
    proposed = seed_clip(api, owner, video, status="proposed")
    not_yet = schedule(api, owner, proposed, [ids["tiktok"]])
    assert not_yet.status_code == 409 and "approved" in not_yet.json()["error"]["message"]

    clip_id = seed_clip(api, owner, video, hashtags=("talks", "clipped", "ai", "video", "shorts", "more"))
    before = datetime.now(UTC)
    created = schedule(api, owner, clip_id, [ids["tiktok"], ids["x"]])
    assert created.status_code == 201, created.text
    tiktok, x = created.json()
    assert (tiktok["platform"], x["platform"]) == ("tiktok", "x")
    assert tiktok["status"] == x["status"] == "scheduled" and tiktok["clip_title"] == "The best minute of the talk"
    assert tiktok["account_name"] and tiktok["clip_version"] == 1
    first, second = (datetime.fromisoformat(p["scheduled_at"]) for p in (tiktok, x))
    assert first >= before and second >= before + timedelta(minutes=20)  # never everywhere at once
    local = first.astimezone(ZoneInfo("America/New_York"))
    assert 9 <= local.hour < 17  # inside the account's window, in its zone
    # Each platform's text: the title, description and hashtags fitted to it (X: 280 characters, 5 tags).
    assert (
        tiktok["caption"].startswith("The best minute of the talk Why short clips work")
        and "#more" in tiktok["caption"]
    )
    assert len(x["caption"]) <= 280 and x["caption"].count("#") == 5
    for key in ("resume", "idempotency_key", "lease_owner", "video_key"):
        assert key not in tiktok

    again = schedule(api, owner, clip_id, [ids["x"]])
    assert again.status_code == 409 and "already scheduled" in again.json()["error"]["message"]
    assert schedule(api, owner, clip_id, ["acct_0000000000000000"]).status_code == 404
    other = seed_clip(api, owner, video)
    private_x = schedule(api, owner, other, [ids["x"]], privacy="private")
    assert private_x.status_code == 422 and "always public" in private_x.json()["error"]["message"]
    naive = schedule(api, owner, other, [ids["tiktok"]], at="2030-01-01T10:00:00")
    assert naive.status_code == 422
    past = schedule(api, owner, other, [ids["tiktok"]], at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    assert past.status_code == 422
    # Someone else's account is not found (as if absent), whichever workspace asks.
    stranger = api.register()
    connect(api, stranger, "tiktok")
    foreign = account_ids(api, stranger)["tiktok"]
    assert schedule(api, owner, other, [foreign]).status_code == 404
    assert schedule(api, stranger, other, [foreign]).status_code == 404


def test_next_slots_keep_each_accounts_cadence(api: ApiHarness, video: Path) -> None:
    owner = api.register()
    connect(api, owner, "tiktok")
    tiktok = account_ids(api, owner)["tiktok"]
    set_plan(api, owner, tiktok, cadence_hours=6, window_start="00:00", window_end="23:59", jitter_minutes=0)
    first = schedule(api, owner, seed_clip(api, owner, video), [tiktok]).json()[0]
    second = schedule(api, owner, seed_clip(api, owner, video), [tiktok]).json()[0]
    gap = datetime.fromisoformat(second["scheduled_at"]) - datetime.fromisoformat(first["scheduled_at"])
    assert gap >= timedelta(hours=6)
    # A given time is kept as given (a stagger apart per further account), not moved into the plan.
    at = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    connect(api, owner, "x")
    x = account_ids(api, owner)["x"]
    third = schedule(api, owner, seed_clip(api, owner, video), [x, tiktok], at=at.isoformat())
    assert third.status_code == 201, third.text
    times = [datetime.fromisoformat(p["scheduled_at"]) for p in third.json()]
    assert times == [at, at + timedelta(minutes=20)]


def test_idempotency_key_gives_the_same_posts(api: ApiHarness, video: Path) -> None:
    owner = api.register()
    connect(api, owner, "tiktok")
    tiktok = account_ids(api, owner)["tiktok"]
    clip_id = seed_clip(api, owner, video)
    key = {"Idempotency-Key": "schedule-1"}
    first = schedule(api, owner, clip_id, [tiktok], headers=key)
    repeat = schedule(api, owner, clip_id, [tiktok], headers=key)
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert [p["id"] for p in repeat.json()] == [p["id"] for p in first.json()]
    conflict = schedule(api, owner, seed_clip(api, owner, video), [tiktok], headers=key)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_conflict"


def test_queue_unschedule_and_roles(api: ApiHarness, video: Path) -> None:
    owner, viewer, editor = api.register(), api.register(), api.register()
    add_member(api, owner, owner.workspace_id, viewer, "viewer")
    add_member(api, owner, owner.workspace_id, editor, "editor")
    viewer = Account(viewer.user_id, viewer.email, owner.workspace_id, viewer.access_token, viewer.refresh_token)
    editor = Account(editor.user_id, editor.email, owner.workspace_id, editor.access_token, editor.refresh_token)
    connect(api, owner, "tiktok")
    tiktok = account_ids(api, owner)["tiktok"]
    one, two = seed_clip(api, owner, video), seed_clip(api, owner, video)
    [first] = schedule(api, owner, one, [tiktok]).json()
    [second] = schedule(api, editor, two, [tiktok]).json()
    queue = f"/api/workspaces/{owner.workspace_id}/publications"
    listed = api.client.get(queue, headers=editor.headers).json()
    assert [p["id"] for p in listed] == [first["id"], second["id"]]  # by time
    assert [p["id"] for p in api.client.get(f"{queue}?clip_id={two}", headers=editor.headers).json()] == [second["id"]]
    assert [p["id"] for p in api.client.get(f"/api/clips/{one}/publications", headers=editor.headers).json()] == [
        first["id"]
    ]
    # The seed's role table gives viewers no Publish access: they neither read the queue, a clip's posts or the
    # accounts, nor change anything, with the same refusal as every other role check.
    for method, url in [
        ("GET", queue),
        ("GET", f"/api/clips/{one}/publications"),
        ("GET", f"/api/workspaces/{owner.workspace_id}/accounts"),
        ("POST", f"/api/publications/{first['id']}/publish-now"),
        ("DELETE", f"/api/publications/{first['id']}"),
    ]:
        refused = api.client.request(method, url, headers=viewer.headers)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", (method, url)
        assert "publish" in refused.json()["error"]["message"]

    canceled = api.client.delete(f"/api/publications/{first['id']}", headers=editor.headers)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    twice = api.client.delete(f"/api/publications/{first['id']}", headers=owner.headers)
    assert twice.status_code == 409 and "canceled" in twice.json()["error"]["message"]
    assert api.client.post(f"/api/publications/{first['id']}/publish-now", headers=owner.headers).status_code == 409
    assert [p["id"] for p in api.client.get(f"{queue}?status=scheduled", headers=owner.headers).json()] == [
        second["id"]
    ]
    # A canceled post no longer blocks scheduling the clip to the account again.
    assert schedule(api, owner, one, [tiktok]).status_code == 201
    # An account that needs reconnecting takes no new posts and cannot publish now.
    store = api.state.publisher.store()
    account = store.get_account(tiktok)
    account.health = "needs_reconnect"
    store.save_account(account)
    assert schedule(api, owner, seed_clip(api, owner, video), [tiktok]).status_code == 409
    assert api.client.post(f"/api/publications/{second['id']}/publish-now", headers=owner.headers).status_code == 409


def test_publish_now_in_process_leaks_no_token_into_responses_or_logs(
    api: ApiHarness, video: Path, fake_tiktok: FakeTikTok, fake_x: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = api.register()
    bodies: list[str] = []
    codes: list[str] = []
    for platform in ("tiktok", "x"):
        authorize_url = start_connect(api, owner, platform)
        with browser_side():
            callback = consent(authorize_url)
        codes.append(callback.split("code=")[1].split("&")[0])
        back = api.client.get(callback, follow_redirects=False)
        bodies.append(back.headers["location"])
    ids = account_ids(api, owner)
    clip_id = seed_clip(api, owner, video)
    created = schedule(api, owner, clip_id, [ids["tiktok"], ids["x"]])
    bodies.append(created.text)
    for publication in created.json():
        published = api.client.post(f"/api/publications/{publication['id']}/publish-now", headers=owner.headers)
        assert published.status_code == 202, published.text
        bodies.append(published.text)
        assert published.json()["status"] == "published" and published.json()["post_url"]
    bodies.append(api.client.get(f"/api/workspaces/{owner.workspace_id}/accounts", headers=owner.headers).text)
    bodies.append(api.client.get(f"/api/workspaces/{owner.workspace_id}/publications", headers=owner.headers).text)
    assert len(fake_tiktok.posts) == 1 and len(fake_x.posts) == 1

    secrets = [grant.access_token for grant in fake_tiktok.grants] + [
        grant.refresh_token for grant in fake_tiktok.grants
    ]
    secrets += [grant.access_token for grant in fake_x.grants] + [
        g.refresh_token for g in fake_x.grants if g.refresh_token
    ]
    secrets += [*codes, fake_tiktok.client_secret, fake_x.client_secret]
    assert len(secrets) >= 8 and all(len(secret) >= 10 for secret in secrets)
    # The server's log lines (the TestClient's own request lines stand for the browser's history, not our logs).
    server_log = "\n".join(record.getMessage() for record in caplog.records if record.name != "httpx2")
    everything = "\n".join(bodies) + "\n" + server_log
    assert "/2/oauth2/token" in server_log and "/v2/oauth/token/" in server_log  # the capture saw the exchanges
    leaked = [secret[:6] + "…" for secret in secrets if secret in everything]
    assert not leaked, f"tokens, codes or secrets in responses or logs: {leaked}"
    # Nor in the publishing store in the clear.
    with api.state.publisher.store().engine.connect() as db:
        rows = "\n".join(str(row) for table in ("publishing_accounts", "publishing_publications")
                         for row in db.execute(text(f"select * from {table}")))  # fmt: skip
    assert not [secret for secret in secrets if secret in rows]


def test_youtube_and_instagram_connect_schedule_publish_and_report_the_post(
    api_env,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    video: Path,
    fake_tiktok: FakeTikTok,
    fake_x: FakeX,
    fake_youtube: FakeYouTube,  # noqa: F811  (the imported fixture)
    fake_instagram: FakeInstagram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The other two platforms through the same routes: connect through their consent pages and the callback,
    schedule one clip to both, publish now, and the queue reports each post with its link; no token of theirs in a
    response or a log line."""
    caplog.set_level(logging.DEBUG)
    for name, value in fake_platform_env(PUBLIC_URL, youtube=fake_youtube, instagram=fake_instagram).items():
        monkeypatch.setenv(name, value)
    launcher = InlineLauncher()
    harness = publishing_harness(api_env, tmp_path, monkeypatch, fake_tiktok, fake_x, launcher)
    launcher.state = harness.state
    with harness.client:
        owner = harness.register()
        codes: list[str] = []
        for platform in ("youtube", "instagram"):
            authorize_url = start_connect(harness, owner, platform)
            with browser_side():
                callback = consent(authorize_url)
            codes.append(parse_qs(urlsplit(callback).query)["code"][0])
            assert come_back(harness, callback) == {"connected": [platform]}
        ids = account_ids(harness, owner)
        created = schedule(harness, owner, seed_clip(harness, owner, video), [ids["youtube"], ids["instagram"]])
        assert created.status_code == 201, created.text
        bodies = [created.text]
        for publication in created.json():
            published = harness.client.post(f"/api/publications/{publication['id']}/publish-now", headers=owner.headers)
            assert published.status_code == 202, published.text
            bodies.append(published.text)
        queue = harness.client.get(f"/api/workspaces/{owner.workspace_id}/publications", headers=owner.headers)
        bodies += [
            queue.text,
            harness.client.get(f"/api/workspaces/{owner.workspace_id}/accounts", headers=owner.headers).text,
        ]
        posts = {publication["platform"]: publication for publication in queue.json()}
        assert {posts[p]["status"] for p in posts} == {"published"} and {posts[p]["error"] for p in posts} == {""}
        [video_id] = fake_youtube.videos
        assert posts["youtube"]["post_url"] == f"https://youtube.com/shorts/{video_id}"
        uploaded = fake_youtube.videos[video_id]
        assert uploaded.title.endswith("#Shorts") and uploaded.privacy_status == "public"
        [reel] = fake_instagram.published_posts()
        assert posts["instagram"]["post_url"] == reel.permalink and reel.caption.startswith("The best minute")

        vault, store = harness.state.publisher.vault(), harness.state.publisher.store()
        grants = [vault.open(account.sealed_grant) for account in store.list_accounts(owner.workspace_id)]
        secrets = [grant.access_token for grant in grants] + [grant.refresh_token or "" for grant in grants]
        secrets += [*fake_instagram.grants, *codes, fake_youtube.client_secret, INSTAGRAM_CLIENT_SECRET]
        assert len(secrets) >= 9 and all(len(secret) >= 10 for secret in secrets)
        # The server's log lines (the TestClient's own request lines stand for the browser's history, not our logs).
        server_log = "\n".join(record.getMessage() for record in caplog.records if record.name != "httpx2")
        assert "/token" in server_log and "/access_token" in server_log  # the capture saw the exchanges
        everything = "\n".join(bodies) + "\n" + server_log
        leaked = [secret[:6] + "…" for secret in secrets if secret in everything]
        assert not leaked, f"tokens, codes or secrets in responses or logs: {leaked}"


@pytest.mark.xdist_group("api_e2e")  # a real Dagster run in a child process
def test_publish_now_runs_publication_job_and_posts_once(
    api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, video: Path, fake_tiktok: FakeTikTok, fake_x: FakeX
) -> None:
    harness = publishing_harness(api_env, tmp_path, monkeypatch, fake_tiktok, fake_x, None)  # embedded launcher
    with harness.client:
        owner = harness.register()
        connect(harness, owner, "tiktok")
        clip_id = seed_clip(harness, owner, video)
        [publication] = schedule(harness, owner, clip_id, [account_ids(harness, owner)["tiktok"]]).json()
        started = harness.client.post(f"/api/publications/{publication['id']}/publish-now", headers=owner.headers)
        assert started.status_code == 202, started.text
        assert started.json()["run_id"]
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            [current] = harness.client.get(f"/api/clips/{clip_id}/publications", headers=owner.headers).json()
            if current["status"] not in ("scheduled", "publishing") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert current["status"] == "published", current
        assert current["post_url"].startswith("https://www.tiktok.com/@") and current["error"] == ""
        assert len(fake_tiktok.posts) == 1 and fake_tiktok.posts[0].title.startswith("The best minute")
        run = harness.state.instance.get_run_by_id(started.json()["run_id"])
        assert run is not None and run.job_name == "publication_job" and run.tags["clipped/account"]
        again = harness.client.post(f"/api/publications/{publication['id']}/publish-now", headers=owner.headers)
        assert again.status_code == 409 and len(fake_tiktok.posts) == 1
        with harness.state.sessions() as session:
            assert session.get(Clip, clip_id).status == "approved"
