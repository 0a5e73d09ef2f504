"""The one table from errors to HTTP responses: ``{"error": {code, message, field, trace_id}}``."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from wanotify.common.domain.errors import (
    DependencyUnavailable,
    DomainError,
    Forbidden,
    IdempotencyConflict,
    MalformedJson,
    NoSender,
    NotCancelable,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
    ValidationFailed,
)
from wanotify.common.edge.body import field_error
from wanotify.common.edge.trace_id import trace_id_for
from wanotify.common.ratelimit import RateLimited

log = logging.getLogger(__name__)

HTTP_STATUS: dict[type[DomainError], int] = {
    ValidationFailed: 400,
    MalformedJson: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    IdempotencyConflict: 409,
    NotCancelable: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    Unprocessable: 422,
    NoSender: 422,
    RateLimited: 429,
    DependencyUnavailable: 503,
}

# Framework exceptions (routing, body limits) by status, so they get our shape and codes too.
FRAMEWORK_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    field: str | None
    trace_id: str | None


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


def error_response(
    request: Request[Any, Any, Any], status: int, code: str, message: str, field: str | None = None
) -> Response[bytes]:
    trace_id = trace_id_for(request.scope)
    body = msgspec.json.encode(ErrorEnvelope(ErrorBody(code, message, field, trace_id)))
    headers = {"X-Trace-Id": trace_id} if trace_id else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    status = next((s for cls, s in HTTP_STATUS.items() if isinstance(exc, cls)), 500)
    response = error_response(request, status, exc.code, exc.message, exc.field)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    code = FRAMEWORK_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else f"HTTP_{status}")
    message = exc.detail if status < 500 else "Internal server error"
    response = error_response(request, status, code, message)
    for name, value in (exc.headers or {}).items():  # Allow on a 405
        response.headers.setdefault(name, value)
    return response


def parameter_error_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    """A query, path or header parameter Litestar refused: our shape, with the parameter named."""
    problems = exc.extra if isinstance(exc.extra, list) else []
    first = problems[0] if problems and isinstance(problems[0], dict) else {}
    key = first.get("key")
    error = field_error(str(key) if key else None, str(first.get("message") or exc.detail))
    return error_response(request, 400, error.code, error.message, error.field)


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return error_response(request, 500, "INTERNAL_ERROR", "Internal server error")


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    ValidationException: parameter_error_handler,
    HTTPException: http_exception_handler,
    Exception: unexpected_error_handler,
}
