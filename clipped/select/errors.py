"""Errors of the selection stage."""

from __future__ import annotations


class NoCandidatesError(ValueError):
    """No window of the allowed duration fits the source; the message says why in one line."""
