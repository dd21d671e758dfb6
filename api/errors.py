"""One error schema for every failure: ``{"error": {"code", "message", "trace_id"}}`` with the right status."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("clipped.api")
TRACE_HEADER = "X-Trace-Id"

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation_error",
    429: "rate_limited",
}


class ApiError(Exception):
    """An expected failure with a status, a stable machine code and a message safe to show."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.headers = headers or {}


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, f"{what} not found")


def trace_id_of(request: Request) -> str:
    trace_id = getattr(request.state, "trace_id", None)
    if trace_id is None:
        trace_id = request.state.trace_id = uuid.uuid4().hex
    return trace_id


def error_response(request: Request, status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    trace_id = trace_id_of(request)
    return JSONResponse(
        {"error": {"code": code, "message": message, "trace_id": trace_id}},
        status_code=status,
        headers={**(headers or {}), TRACE_HEADER: trace_id},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.middleware("http")
    async def _trace(request: Request, call_next):
        trace_id = request.headers.get(TRACE_HEADER, "")
        request.state.trace_id = trace_id if trace_id.isalnum() and len(trace_id) <= 64 else uuid.uuid4().hex
        response = await call_next(request)
        response.headers.setdefault(TRACE_HEADER, request.state.trace_id)
        return response

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(request, exc.status_code, _CODES.get(exc.status_code, "error"), message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
        return error_response(request, 422, "validation_error", message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error (trace %s)", trace_id_of(request))
        return error_response(request, 500, "internal_error", "internal error; quote the trace id when reporting it")
