"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

from api.routing import SessionReleasingRoute
from api.schemas import Health

router = APIRouter(prefix="/api", tags=["health"], route_class=SessionReleasingRoute)


@router.get("/health", response_model=Health)
def health() -> Health:
    return Health()
