"""The brand kit API (kit, logo) and the finishing options in a job's settings."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
from PIL import Image

from api.schemas import RerenderIn
from clipped.brand.kit import BRAND_KIT_FILE, MAX_LOGO_BYTES, brand_key
from clipped.sources import SourceRequest
from tests.api.conftest import ApiHarness
from tests.api.test_auth import assert_error
from tests.api.test_idempotency import _confirmed_upload


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


def test_a_workspace_edits_its_brand_kit_and_logo(sqlite_api: ApiHarness) -> None:
    api, account = sqlite_api, sqlite_api.register()
    base = f"/api/workspaces/{account.workspace_id}/brand-kit"
    assert api.client.get(base, headers=account.headers).json()["caption_font"] == "DejaVu Sans"
    assert api.client.get(f"{base}/logo", headers=account.headers).status_code == 204

    kit = {"caption_font": "DejaVu Serif", "highlight_colour": "#ff0066", "profanity_words": ["Frob"]}
    saved = api.client.put(base, headers=account.headers, json=kit)
    assert saved.status_code == 200 and saved.json()["highlight_colour"] == "#FF0066"
    assert api.state.storage.exists(brand_key(account.workspace_id, BRAND_KIT_FILE))  # in the workspace's storage
    refused = api.client.put(base, headers=account.headers, json={"caption_font": "Papyrus"})
    assert refused.status_code == 422 and "DejaVu Sans" in refused.text

    bad = api.client.put(f"{base}/logo", headers=account.headers, content=b"GIF89a not really")
    assert bad.status_code == 422 and "not a readable image" in bad.text
    uploaded = api.client.put(f"{base}/logo", headers=account.headers, content=png((120, 40)))
    assert (
        uploaded.status_code == 200 and uploaded.json()["has_logo"] and uploaded.json()["profanity_words"] == ["frob"]
    )
    logo = api.client.get(f"{base}/logo", headers=account.headers)
    assert logo.headers["content-type"] == "image/png" and Image.open(io.BytesIO(logo.content)).size == (120, 40)
    assert not api.client.delete(f"{base}/logo", headers=account.headers).json()["has_logo"]


def test_a_logo_larger_than_the_json_cap_is_accepted_up_to_its_own_limit(sqlite_api: ApiHarness) -> None:
    api, account = sqlite_api, sqlite_api.register()
    url = f"/api/workspaces/{account.workspace_id}/brand-kit/logo"
    json_cap = api.state.settings.max_json_body_bytes
    noise = np.random.default_rng(9).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, format="PNG")  # noise does not compress: ~190 KB
    photo_like = out.getvalue()
    assert json_cap < len(photo_like) < MAX_LOGO_BYTES
    uploaded = api.client.put(url, headers=account.headers, content=photo_like)
    assert uploaded.status_code == 200 and uploaded.json()["has_logo"], uploaded.text

    declared = api.client.put(url, headers=account.headers, content=b"\x89PNG" + b"\0" * MAX_LOGO_BYTES)
    assert_error(declared, 413, "payload_too_large")

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(MAX_LOGO_BYTES // 65536 + 2):
            yield b"\0" * 65536

    streamed = api.client.put(url, headers=account.headers, content=chunked())
    assert "content-length" not in {name.lower() for name in streamed.request.headers}
    assert_error(streamed, 413, "payload_too_large")
    # The refused bodies left the stored logo as it was.
    kept = Image.open(io.BytesIO(api.client.get(url, headers=account.headers).content))
    assert kept.size == (256, 256)


def test_finishing_options_travel_with_the_job_and_a_rerender(sqlite_api: ApiHarness) -> None:
    api, account = sqlite_api, sqlite_api.register()
    effects = {"platform": "tiktok", "words_per_line": 2, "profanity": "bleep", "keyword_emoji": False}
    settings = {"max_clips": 1, "caption_style": "typewriter", "effects": effects}
    body = {"upload_id": _confirmed_upload(api, account), "settings": settings}
    created = api.client.post("/api/jobs", headers=account.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["settings"]["effects"]["profanity"] == "bleep"
    request_keys = [key for key in api.state.storage.list_keys(account.workspace_id) if key.endswith("request.json")]
    stored = api.state.storage.read_model(request_keys[0], SourceRequest).settings
    assert stored.caption_style == "typewriter" and stored.effects.model_dump() | effects == stored.effects.model_dump()
    wrong = api.client.post(
        "/api/jobs", headers=account.headers, json={**body, "settings": {"effects": {"profanity": "loud"}}}
    )
    assert wrong.status_code == 422
    assert RerenderIn(effects={"profanity": "off"}).edits()["effects"]["profanity"] == "off"
