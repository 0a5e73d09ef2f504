"""Thin HTTP handlers: parse headers, call the service, shape the response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.params import FromPath

from wanotify.api.notifications.schemas import NotificationView
from wanotify.api.notifications.service import (
    NotificationService,
    Reply,
    RequestContext,
    bulk_size,
    request_hash,
)
from wanotify.api.state import AppState
from wanotify.common.domain.errors import UnsupportedMediaType, ValidationFailed
from wanotify.common.telemetry import current_traceparent

MAX_IDEMPOTENCY_KEY = 255


def _require_json(request: Request[Any, Any, Any]) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json", field="Content-Type")


async def _context(
    request: Request[Any, Any, Any], state: AppState, scope: str, size: Callable[[bytes], int]
) -> tuple[RequestContext, bytes, int]:
    """Authenticate, then take the request's notifications from the tenant's quota before validating."""
    principal = await state.ingress.principal(request, scope)
    body = await request.body()
    granted = await state.ingress.take(request, principal, size(body))
    _require_json(request)
    key = request.headers.get("x-idempotency-key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY):
        raise ValidationFailed("X-Idempotency-Key must be 1 to 255 characters", field="X-Idempotency-Key")
    ctx = RequestContext(
        principal=principal,
        trace_id=request.state.trace_id,
        traceparent=current_traceparent(),
        idempotency_key=key,
        request_hash=request_hash(request.method, request.url.path, body),
    )
    return ctx, body, granted


def _response(reply: Reply) -> Response[bytes]:
    headers = {"Idempotent-Replayed": "true"} if reply.replayed else {}
    return Response(reply.body, status_code=reply.status_code, media_type=MediaType.JSON, headers=headers)


class NotificationController(Controller):
    path = "/v1/notifications"
    tags = ["notifications"]

    @post("/", status_code=201)
    async def create(self, request: Request[Any, Any, Any], state: AppState) -> Response[bytes]:
        ctx, body, _ = await _context(request, state, "notifications:send", lambda _: 1)
        return _response(await state.notifications.accept_one(ctx, body))

    @post("/bulk", status_code=202)
    async def create_bulk(self, request: Request[Any, Any, Any], state: AppState) -> Response[bytes]:
        ctx, body, granted = await _context(request, state, "notifications:send", bulk_size)
        return _response(await state.notifications.accept_bulk(ctx, body, granted))

    @get("/{notification_id:str}")
    async def read(
        self, request: Request[Any, Any, Any], state: AppState, notification_id: FromPath[str]
    ) -> NotificationView:
        principal = await state.authenticate(request, "notifications:read")
        service: NotificationService = state.notifications
        return await service.get(principal, notification_id)

    @delete("/{notification_id:str}", status_code=200)
    async def cancel(
        self, request: Request[Any, Any, Any], state: AppState, notification_id: FromPath[str]
    ) -> NotificationView:
        principal = await state.authenticate(request, "notifications:send")
        service: NotificationService = state.notifications
        return await service.cancel(principal, notification_id)
