"""Where ranking weights are kept: every fit as ``{ws}/learn/ranking_weights/v{n}.json``, never overwritten,
and the latest accepted one also as ``latest.json`` (what the selector reads).

``v{n}.json`` is written before ``latest.json``, so a crash in between leaves a version that the next run
with the same data reuses and finishes publishing.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from clipped.layout import check_workspace_id
from clipped.learn.fit import FitSettings
from clipped.learn.loop import LearnStep, learn_step
from clipped.learn.outcomes import PostOutcome, outcomes_from_rows, performance_query
from clipped.learn.weights import RankingWeights, default_weights
from clipped.storage import Storage

_VERSION_FILE = re.compile(r"/v(?P<version>[1-9][0-9]*)\.json$")


class Warehouse(Protocol):
    """What the learner needs of the analytics warehouse: rows of a SQL query."""

    def query(self, sql: str) -> list[dict[str, object]]: ...


@dataclass(frozen=True)
class LearnRun:
    """What one materialization of a workspace's ranking weights did."""

    fit: RankingWeights  # the version recorded by this run (or reused from an identical earlier run)
    previous: RankingWeights  # the weights in use before it
    current: RankingWeights  # the weights in use after it
    reused: bool


def weights_prefix(workspace_id: str) -> str:
    return f"{check_workspace_id(workspace_id)}/learn/ranking_weights"


def latest_key(workspace_id: str) -> str:
    return f"{weights_prefix(workspace_id)}/latest.json"


def version_key(workspace_id: str, version: int) -> str:
    return f"{weights_prefix(workspace_id)}/v{version}.json"


def read_latest_weights(storage: Storage, workspace_id: str) -> RankingWeights:
    """The workspace's latest accepted weights, or the built-in defaults (version 0) before any."""
    key = latest_key(workspace_id)
    if not storage.exists(key):
        return default_weights(workspace_id)
    return storage.read_model(key, RankingWeights)


def list_versions(storage: Storage, workspace_id: str) -> list[int]:
    """Every recorded fit's version number, ascending."""
    found = (_VERSION_FILE.search(key) for key in storage.list_keys(weights_prefix(workspace_id) + "/"))
    return sorted(int(match["version"]) for match in found if match)


def read_version(storage: Storage, workspace_id: str, version: int) -> RankingWeights:
    """One recorded fit (version 0: the defaults)."""
    if version == 0:
        return default_weights(workspace_id)
    return storage.read_model(version_key(workspace_id, version), RankingWeights)


def record_fit(storage: Storage, fit: RankingWeights) -> RankingWeights:
    """Store ``fit`` as the next version; when accepted, also as ``latest.json``. Returns it with its version."""
    versions = list_versions(storage, fit.workspace_id)
    numbered = fit.model_copy(update={"version": (versions[-1] if versions else 0) + 1})
    storage.write_model(version_key(fit.workspace_id, numbered.version), numbered)
    if numbered.accepted:
        storage.write_model(latest_key(fit.workspace_id), numbered)
    return numbered


def data_fingerprint(outcomes: Sequence[PostOutcome], settings: FitSettings) -> str:
    """A hash of what a fit depends on: the posts and the fit settings. (The weights it competes with are the
    previous fit's outcome, so the same posts and settings always meet the same competitor.)"""
    payload = [
        [
            o.publication_id,
            o.clip_id,
            o.platform,
            o.scores,
            o.duration_s,
            o.caption_style,
            o.posting_hour,
            None if math.isnan(o.age_days) else o.age_days,
            o.views,
            o.hook_type,
        ]
        for o in outcomes
    ]
    body = json.dumps([payload, settings.as_dict()], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:24]


def learn_ranking_weights(
    storage: Storage,
    workspace_id: str,
    rows: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    settings: FitSettings | None = None,
) -> LearnRun:
    """Fit the workspace's weights from performance-mart ``rows``, judge them against the latest accepted ones,
    and record the fit as a new version (``latest.json`` only when accepted). Running again on the same rows
    reuses the recorded version instead of adding one."""
    settings = settings or FitSettings()
    previous = read_latest_weights(storage, workspace_id)
    outcomes = outcomes_from_rows(rows)
    fingerprint = data_fingerprint(outcomes, settings)
    versions = list_versions(storage, workspace_id)
    if versions:
        last = read_version(storage, workspace_id, versions[-1])
        if last.data_fingerprint == fingerprint:
            if last.accepted and previous.version < last.version:
                storage.write_model(latest_key(workspace_id), last)
            return LearnRun(
                fit=last, previous=previous, current=read_latest_weights(storage, workspace_id), reused=True
            )
    step: LearnStep = learn_step(outcomes, previous, now=now, settings=settings)
    fit = record_fit(storage, step.fit.model_copy(update={"data_fingerprint": fingerprint}))
    return LearnRun(fit=fit, previous=previous, current=fit if fit.accepted else previous, reused=False)


def load_rows(warehouse: Warehouse, workspace_id: str) -> list[dict[str, object]]:
    """The workspace's rows of the performance mart."""
    return warehouse.query(performance_query(workspace_id))
