"""Secrets out of uvicorn's access log: signed link tokens (uploads, media, event streams) and OAuth codes travel
in query strings, and the access log writes each request line in full."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
# Query parameters whose values are credentials or one-time codes, in any case.
SECRET_PARAMS = ("token", "access_token", "refresh_token", "id_token", "code", "state", "signature", "key", "secret")
_SECRET_VALUE = re.compile(r"(?i)([?&](?:" + "|".join(SECRET_PARAMS) + r")=)[^&#\s]*")


def redact_url(target: str) -> str:
    """``target`` (a path with its query) with the values of secret parameters replaced."""
    return _SECRET_VALUE.sub(lambda match: match.group(1) + REDACTED, target)


class RedactSecrets(logging.Filter):
    """Rewrites the request target of uvicorn's access records: ``(client, method, target, version, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redact_url(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Install :class:`RedactSecrets` on the access logger (once). A logger's filters survive uvicorn's
    ``dictConfig`` (which replaces handlers, not filters), so the app can install it whichever server runs it."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
        logger.addFilter(RedactSecrets())
