"""Every id-bearing and workspace-scoped API route with the permission it needs and a request that exercises it.

test_access checks that this table covers every route the app has, so a new route must be classified here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi.routing import APIRoute

from api.roles import Permission
from tests.api.world import FAKE_MP4, World

R, E, D, M = Permission.READ, Permission.EDIT, Permission.DELETE, Permission.MANAGE
# The publishing area (seed role table: viewers have no Publish access); its changes need E or M as well.
P = Permission.PUBLISH
# An 8x8 red PNG: the smallest logo the brand kit accepts.
BRAND_LOGO = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc000000114944415478da63fccf801d30310c2909"
    "00cd41010fbb7836aa0000000049454e44ae426082"
)


@dataclass
class Case:
    method: str
    path: str
    permission: Permission
    json: Callable[[World], object] | None = None
    content: bytes | None = None
    ids: dict[str, str] = field(default_factory=dict)  # path params that differ from the defaults

    def url(self, world: World) -> str:
        values = {
            "workspace_id": world.workspace_id,
            "job_id": world.job_id,
            "clip_id": world.clip_id,
            "upload_id": world.upload_id,
            "user_id": world.member_id,
            "token_id": world.token_id,
            "account_id": world.account_id,
            "publication_id": world.publication_id,
            "invitation_id": world.invitation_id,
            "stream_id": world.stream_id,
            "moment_id": world.stream_moment_id,
            "format_id": "srt",
            "kind": "intro",  # a brand kit bumper
        }
        values.update({name: getattr(world, attr) for name, attr in self.ids.items()})
        return self.path.format(**values)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}" + (f" {self.json(_Names())}" if self.path.endswith("batch") else "")


class _Names:
    clip_id = "<clip>"


# Routes any signed-in caller may use (they act on the caller, or on nothing scoped).
UNSCOPED = {
    ("GET", "/api/health"),
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/me"),
    ("GET", "/api/workspaces"),
    ("POST", "/api/workspaces"),
    ("GET", "/api/caption-styles"),
    ("GET", "/api/platforms"),
    # No bearer token: the one-time OAuth flow and its browser-bound cookie say who connects (tests/api/routes/
    # test_accounts.py).
    ("GET", "/api/oauth/{platform}/callback"),
    # The invitee is not a member yet: the token and their email say which invitation (tests/api/test_invitations.py).
    ("POST", "/api/invitations/accept"),
    ("POST", "/api/invitations/decline"),
}

# Reads first, then changes, destructive ones last (they remove what later cases use).
CASES = [
    Case("GET", "/api/jobs", R),
    Case("GET", "/api/jobs/{job_id}", R),
    Case("GET", "/api/jobs/{job_id}/events", R),
    Case("GET", "/api/jobs/{job_id}/summary", R),
    Case("POST", "/api/jobs/{job_id}/stream-token", R),
    Case("GET", "/api/clips", R),
    Case("GET", "/api/clips/{clip_id}", R),
    Case("GET", "/api/clips/{clip_id}/video", R),
    Case("GET", "/api/clips/{clip_id}/thumbnail", R),
    Case("GET", "/api/clips/{clip_id}/versions", R),
    Case("GET", "/api/clips/{clip_id}/preview", R),
    Case("GET", "/api/clips/{clip_id}/transcript", R),
    Case("GET", "/api/clips/{clip_id}/comments", R),
    Case("GET", "/api/clips/{clip_id}/downloads", R),
    Case("GET", "/api/clips/{clip_id}/download/{format_id}", R),
    Case("POST", "/api/jobs/{job_id}/export-link", R),
    Case("GET", "/api/jobs/{job_id}/export", R),
    Case("GET", "/api/workspaces/{workspace_id}/members", R),
    Case("GET", "/api/workspaces/{workspace_id}/accounts", P),
    Case("GET", "/api/workspaces/{workspace_id}/publications", P),
    Case("GET", "/api/clips/{clip_id}/publications", P),
    *(
        Case("GET", f"/api/workspaces/{{workspace_id}}/analytics/{view}", R)
        for view in ("summary", "engagement", "clips", "features", "posting-hours", "growth", "ranking-weights")
    ),
    Case("GET", "/api/workspaces/{workspace_id}/streams", R),
    Case("GET", "/api/streams", R),
    Case("GET", "/api/streams/{stream_id}", R),
    Case("GET", "/api/streams/{stream_id}/clips/{moment_id}/video", R),
    Case("GET", "/api/streams/{stream_id}/clips/{moment_id}/thumbnail", R),
    Case("GET", "/api/clips/{clip_id}/variations", R),
    Case("GET", "/api/search", R),
    Case("GET", "/api/workspaces/{workspace_id}/brand-kit", R),
    Case("GET", "/api/workspaces/{workspace_id}/brand-kit/logo", R),
    Case("GET", "/api/workspaces/{workspace_id}/brand-kit/{kind}", R),
    Case("POST", "/api/jobs", E, json=lambda w: {"source_url": "https://10.0.0.1/video.mp4"}),
    Case("POST", "/api/workspaces/{workspace_id}/streams", E, json=lambda w: {"url": "https://10.0.0.1/live.m3u8"}),
    Case("POST", "/api/streams", E, json=lambda w: {"url": "https://10.0.0.1/live.m3u8"}),
    Case("POST", "/api/streams/{stream_id}/stop", E),
    Case("POST", "/api/jobs/{job_id}/cancel", E),
    Case("POST", "/api/jobs/{job_id}/retry", E),
    Case("POST", "/api/uploads", E, json=lambda w: {"filename": "a.mp4", "content_type": "video/mp4", "size": 10}),
    Case("PUT", "/api/uploads/{upload_id}/content", E, content=FAKE_MP4, ids={"upload_id": "pending_upload_id"}),
    Case("POST", "/api/uploads/{upload_id}/confirm", E),
    Case("PATCH", "/api/clips/{clip_id}", E, json=lambda w: {"title": "changed"}),
    Case("POST", "/api/clips/{clip_id}/approve", E),
    Case("POST", "/api/clips/{clip_id}/reject", E),
    Case("POST", "/api/clips/{clip_id}/comments", E, json=lambda w: {"body": "hi", "at_s": 1.0}),
    Case("POST", "/api/clips/{clip_id}/rerender", E, json=lambda w: {"caption_style": "karaoke"}),
    Case("POST", "/api/clips/{clip_id}/variations", E, json=lambda w: {"count": 2}),
    Case("POST", "/api/search/clips", E, json=lambda w: {"job_id": w.job_id, "start_s": 1.0, "end_s": 2.0}),
    Case("PUT", "/api/workspaces/{workspace_id}/brand-kit", E, json=lambda w: {"caption_colour": "#FFEEDD"}),
    Case("PUT", "/api/workspaces/{workspace_id}/brand-kit/logo", E, content=BRAND_LOGO),
    Case("DELETE", "/api/workspaces/{workspace_id}/brand-kit/logo", E),
    Case("PUT", "/api/workspaces/{workspace_id}/brand-kit/{kind}", E, content=FAKE_MP4),
    Case("DELETE", "/api/workspaces/{workspace_id}/brand-kit/{kind}", E),
    Case("POST", "/api/clips/batch", E, json=lambda w: {"action": "approve", "ids": [w.clip_id]}),
    Case("POST", "/api/clips/{clip_id}/publications", E, json=lambda w: {"account_ids": [w.account_id]}),
    Case("POST", "/api/publications/{publication_id}/publish-now", E),
    Case("DELETE", "/api/publications/{publication_id}", E),
    Case("GET", "/api/workspaces/{workspace_id}/tokens", M),
    Case("POST", "/api/workspaces/{workspace_id}/tokens", M, json=lambda w: {"name": "n", "scopes": ["read"]}),
    Case("GET", "/api/workspaces/{workspace_id}/invitations", M),
    Case(
        "POST",
        "/api/workspaces/{workspace_id}/invitations",
        M,
        json=lambda w: {"email": "new@example.com", "role": "viewer"},
    ),
    Case("PATCH", "/api/workspaces/{workspace_id}/members/{user_id}", M, json=lambda w: {"role": "editor"}),
    Case("POST", "/api/workspaces/{workspace_id}/accounts/connect", M, json=lambda w: {"platform": "tiktok"}),
    Case("PATCH", "/api/accounts/{account_id}", M, json=lambda w: {"plan": {"cadence_hours": 6}}),
    Case("DELETE", "/api/workspaces/{workspace_id}/tokens/{token_id}", M),
    Case("DELETE", "/api/workspaces/{workspace_id}/members/{user_id}", M),
    Case("DELETE", "/api/workspaces/{workspace_id}/invitations/{invitation_id}", M),
    Case("DELETE", "/api/accounts/{account_id}", M),
    Case("POST", "/api/clips/batch", D, json=lambda w: {"action": "delete", "ids": [w.clip_id]}),
    Case("DELETE", "/api/jobs/{job_id}", D),
]


def api_routes(routes) -> list[APIRoute]:
    """The app's endpoints; FastAPI 0.165 keeps an included router's routes behind the router it includes."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (included := getattr(route, "original_router", None)) is not None:
            found += api_routes(included.routes)
    return found


def app_routes(app) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in api_routes(app.routes)
        if route.path.startswith("/api/")
        for method in route.methods
    }


def call(client, case: Case, world: World, headers: dict[str, str]):
    # List and create routes act in the workspace the header names; id routes ignore it.
    kwargs: dict[str, object] = {"headers": {**headers, "X-Workspace-Id": world.workspace_id}}
    if case.json is not None:
        kwargs["json"] = case.json(world)
    if case.content is not None:
        kwargs["content"] = case.content
        kwargs["headers"]["Content-Type"] = "video/mp4"
    return client.request(case.method, case.url(world), **kwargs)
