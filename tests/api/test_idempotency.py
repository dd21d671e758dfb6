"""Concurrent POST /api/jobs with one Idempotency-Key: one job, every answer is that job, never a 500."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from api.models import Job
from api.routes import jobs as jobs_routes
from tests.api.conftest import ApiHarness
from tests.api.test_uploads import ticket
from tests.api.world import FAKE_MP4

RACERS = 6


def _confirmed_upload(api: ApiHarness, account) -> str:
    upload = ticket(api, account).json()
    assert api.client.put(upload["url"], content=FAKE_MP4, headers=upload["headers"]).status_code == 200
    assert api.client.post(f"/api/uploads/{upload['upload_id']}/confirm", headers=account.headers).is_success
    return upload["upload_id"]


def test_concurrent_requests_with_one_key_make_one_job(api: ApiHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    account = api.register()
    upload_id = _confirmed_upload(api, account)
    # Every request passes the look-up for the key before any of them inserts: the unique constraint decides.
    barrier = threading.Barrier(RACERS, timeout=20)
    register = jobs_routes.register_request

    def register_together(*args, **kwargs):
        barrier.wait()
        return register(*args, **kwargs)

    monkeypatch.setattr(jobs_routes, "register_request", register_together)
    headers = {**account.headers, "Idempotency-Key": "race-1"}

    def create(_: int):
        return api.client.post("/api/jobs", headers=headers, json={"upload_id": upload_id})

    with ThreadPoolExecutor(RACERS) as pool:
        responses = list(pool.map(create, range(RACERS)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (RACERS - 1) + [201], [r.text for r in responses]
    assert len({response.json()["id"] for response in responses}) == 1
    with api.state.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert len(api.launcher.launched) == 1  # launched once, by the request that made it

    # A different body with the same key is a conflict, raced or not.
    monkeypatch.setattr(jobs_routes, "register_request", register)
    other = api.client.post("/api/jobs", headers=headers, json={"upload_id": upload_id, "settings": {"max_clips": 3}})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
