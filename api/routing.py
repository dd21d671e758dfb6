"""The API's route class: a request's database session gives its connection back in the endpoint's own thread.

FastAPI runs a sync endpoint in a worker thread, then validates its return value in another one, and closes the
request's session only after that. A connection held across the wait for the second thread deadlocks the API under
load: the requests holding the pool's connections wait for threads, while every thread waits for a connection
(bench/load_api.py, tests/api/test_open_streams.py). So the endpoint runs in one thread that closes the session as
it returns (what it did not commit is discarded, as the session's close always did), and its result is validated
on the event loop, which takes no thread at all.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool


class SessionReleasingRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = releasing_sessions(endpoint)
        super().__init__(path, endpoint, **kwargs)


def releasing_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as a coroutine that calls it in a worker thread and closes its sessions there once it returns.

    The wrapper keeps the endpoint's signature (``functools.wraps``), so FastAPI sees the same parameters.
    """

    @functools.wraps(endpoint)
    async def run(**arguments: Any) -> Any:
        return await run_in_threadpool(call_and_close_sessions, endpoint, arguments)

    return run


def call_and_close_sessions(endpoint: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    try:
        return endpoint(**arguments)
    finally:
        for value in arguments.values():
            if isinstance(value, Session):
                value.close()  # its loaded rows stay readable, detached, for the response
