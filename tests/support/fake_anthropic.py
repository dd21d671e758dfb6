"""A local stand-in for Anthropic's Messages API (``POST /v1/messages``), for the Claude ranker's tests.

A threaded ``http.server`` on 127.0.0.1 (a free port). It checks what the real API checks first (the key, as
``x-api-key`` or a bearer token; the ``anthropic-version`` header; ``model``, ``max_tokens``, ``messages``; each
tool's ``input_schema``) and answers with the documented JSON: a ``message`` whose content holds ``tool_use``
blocks and whose ``usage`` carries the cache token counts, or an ``error`` object. Answers are queued per test
(``then_*``); with none queued, the ``responder`` (by default: every candidate of the request written plainly, in
the order given) builds one. Every request is recorded in ``requests`` (headers and JSON body).
Tests get it as the ``fake_anthropic`` fixture: ``from tests.support.fake_anthropic import fake_anthropic_fixture``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

API_KEY = "sk-ant-test-0000000000000000"

Answer = tuple[int, bytes, dict[str, str], float]  # status, body, headers, delay before answering


@dataclass
class Recorded:
    headers: dict[str, str]
    body: dict[str, Any]


def message(content: list[dict[str, Any]], *, stop_reason: str = "tool_use", model: str = "claude-sonnet-4-5",
            usage: dict[str, int] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "id": "msg_01FakeFakeFake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage
        or {
            "input_tokens": 1200,
            "output_tokens": 400,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 900,
        },
    }


def tool_use(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": "toolu_01Fake", "name": name, "input": payload}


def candidate_ids(body: dict[str, Any]) -> list[str]:
    """The candidate ids a ranking request asks about, in the order given."""
    text = "".join(
        part if isinstance(part, str) else part.get("text", "")
        for msg in body["messages"]
        for part in ([msg["content"]] if isinstance(msg["content"], str) else msg["content"])
    )
    return re.findall(r'<candidate id="([^"]+)"', text)


def plain_plan(candidate_id: str, score: int) -> dict[str, Any]:
    return {
        "candidate_id": candidate_id,
        "score": score,
        "title": f"Why this moment matters {candidate_id[-4:]}",
        "hook": "Nobody tells you this",
        "reason": "a clear question answered in one go",
        "hashtags": ["#Learning", "Ideas"],
        "captions": {
            "tiktok": "Wait for the answer at the end",
            "youtube": "A short answer to a question people keep asking.",
            "instagram": "Would you have guessed this?",
            "x": "The shortest answer to a long question.",
        },
    }


def rank_in_given_order(body: dict[str, Any]) -> dict[str, Any]:
    ids = candidate_ids(body)
    plans = [plain_plan(cid, 90 - index) for index, cid in enumerate(ids)]
    return message([tool_use(body["tools"][0]["name"], {"clips": plans})])


@dataclass
class FakeMessagesApi:
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    queued: list[Answer] = field(default_factory=list)
    responder: Callable[[dict[str, Any]], dict[str, Any]] = rank_in_given_order

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def then_json(self, payload: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None,
                  delay_s: float = 0.0) -> None:  # fmt: skip
        self.queued.append((status, json.dumps(payload).encode(), headers or {}, delay_s))

    def then_raw(self, body: bytes, *, status: int = 200) -> None:
        self.queued.append((status, body, {}, 0.0))

    def then_error(self, status: int, error_type: str, text: str, *, headers: dict[str, str] | None = None) -> None:
        self.then_json(
            {"type": "error", "error": {"type": error_type, "message": text}}, status=status, headers=headers
        )

    def then_slow(self, delay_s: float) -> None:
        """An answer that comes after the client's timeout (the client gives up first)."""
        self.queued.append((200, b"{}", {}, delay_s))

    def answer(self, headers: dict[str, str], raw: bytes) -> Answer:
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return _error(400, "invalid_request_error", "request body is not JSON")
        self.requests.append(Recorded(headers=headers, body=body))
        # SDK 1.x sends the key as x-api-key, 2.x as a bearer token; the API takes both.
        if API_KEY not in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer ")):
            return _error(401, "authentication_error", "invalid x-api-key")
        if not headers.get("anthropic-version"):
            return _error(400, "invalid_request_error", "anthropic-version header is required")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return _error(400, "invalid_request_error", f"{name}: Field required")
        for tool in body.get("tools", []):
            if tool.get("input_schema", {}).get("type") != "object":
                return _error(400, "invalid_request_error", "tools.0.input_schema.type: Input should be 'object'")
        if self.queued:
            return self.queued.pop(0)
        return 200, json.dumps(self.responder(body)).encode(), {}, 0.0


def _error(status: int, error_type: str, text: str) -> Answer:
    return status, json.dumps({"type": "error", "error": {"type": error_type, "message": text}}).encode(), {}, 0.0


def serve(fake: FakeMessagesApi) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path.split("?")[0] != "/v1/messages":
                status, body, headers, delay = _error(404, "not_found_error", f"no route {self.path}")
            else:
                status, body, headers, delay = fake.answer({k.lower(): v for k, v in self.headers.items()}, raw)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("request-id", "req_fake")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(name="fake_anthropic")
def fake_anthropic_fixture() -> Iterator[FakeMessagesApi]:
    fake = FakeMessagesApi()
    server = serve(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
