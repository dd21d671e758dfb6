"""Links people can open from the Dagster UI: pages of the review app, which signs them in and checks access.

Dagster shows ``file://`` and ``s3://`` metadata links as dead links, and a storage URL would bypass the review app's
access control anyway; the review app's ``/open/...`` routes redirect to the job or clip page of what was stored.
"""

from __future__ import annotations

from urllib.parse import quote

DEFAULT_REVIEW_APP_URL = "http://127.0.0.1:8000"  # where `clipped api` listens by default


def source_page(review_app_url: str, partition_key: str) -> str:
    """The review app's page of the job that processed this source partition."""
    return f"{review_app_url.rstrip('/')}/open/sources/{quote(partition_key, safe='')}"


def clip_page(review_app_url: str, partition_key: str, clip_id: str, version: int | None = None) -> str:
    """The review app's page of one rendered clip (``clip_id`` as in the rendered_clips manifest)."""
    url = f"{review_app_url.rstrip('/')}/open/clips/{quote(partition_key, safe='')}/{quote(clip_id, safe='')}"
    return f"{url}?version={version}" if version is not None else url
