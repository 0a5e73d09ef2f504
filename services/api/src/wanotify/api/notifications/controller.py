"""Thin HTTP handlers: typed bodies in, the service's reply out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from wanotify.api.dto import JsonBody
from wanotify.api.notifications.schemas import (
    BATCH_ID_PATTERN,
    EVENT_PATTERN,
    ID_PATTERN,
    BulkCreated,
    BulkIn,
    BulkRequest,
    NotificationCreated,
    NotificationHistory,
    NotificationIn,
    NotificationPage,
    NotificationStatus,
    NotificationView,
)
from wanotify.api.notifications.search import metadata_filter
from wanotify.api.notifications.service import (
    NotificationService,
    Reply,
    RequestContext,
    bulk_size,
    request_hash,
)
from wanotify.api.openapi import operation
from wanotify.api.paging import DEFAULT_PAGE, PageCursor, PageLimit
from wanotify.api.query import check_times, time_parameter
from wanotify.common.db.notification_filter import NotificationFilter
from wanotify.common.domain.notification import Principal
from wanotify.common.domain.phone import E164_MAX_LENGTH, E164_PATTERN
from wanotify.common.domain.priority import Priority
from wanotify.common.domain.status import Status
from wanotify.common.edge.text import SINGLE_LINE_PATTERN, check_text
from wanotify.common.telemetry import current_traceparent

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="X-Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=SINGLE_LINE_PATTERN,
        required=False,
        description="Retry-safe key: the same key and body within 24 h return the first reply "
        "(with `Idempotent-Replayed: true`); the same key with another body is a 409",
    ),
]
NotificationIdPath = Annotated[
    str, PathParameter(pattern=ID_PATTERN, max_length=64, description="The notification's id (`notif_…`)")
]


class BulkBody(JsonBody[BulkIn]):
    documented_as = BulkRequest


async def _context(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], key: str | None
) -> RequestContext:
    if key is not None:
        check_text(key, "X-Idempotency-Key")
    return RequestContext(
        principal=principal,
        trace_id=request.state.trace_id,
        traceparent=current_traceparent(),
        idempotency_key=key,
        request_hash=request_hash(request.method, request.url.path, await request.body()),
    )


def _response(reply: Reply) -> Response[bytes]:
    headers = {"Idempotent-Replayed": "true"} if reply.replayed else {}
    return Response(reply.body, status_code=reply.status_code, media_type=MediaType.JSON, headers=headers)


class NotificationController(Controller):
    path = "/v1/notifications"
    tags = ["notifications"]

    @post(
        "/",
        status_code=201,
        dto=JsonBody[NotificationIn],
        return_dto=None,
        **operation(
            "createNotification",
            "notifications:send",
            body=True,
            errors=(409, 422),
            quota=lambda _: 1,
            success=((201, NotificationCreated, "Accepted: queued, or scheduled for `scheduled_for`"),),
        ),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[NotificationIn],
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Send one notification (a template, a text or a media message) to one recipient."""
        ctx = await _context(request, principal, idempotency_key)
        return _response(await notifications.accept_one(ctx, data))

    @post(
        "/bulk",
        status_code=202,
        dto=BulkBody,
        return_dto=None,
        **operation(
            "createNotificationBatch",
            "notifications:send",
            body=True,
            errors=(409, 422),
            quota=bulk_size,
            success=((202, BulkCreated, "Each item accepted or refused on its own; see `errors`"),),
        ),
    )
    async def create_bulk(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[BulkIn],
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        granted: NamedDependency[int],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Send up to 100 notifications in one batch; items over the rate limit are refused one by one."""
        ctx = await _context(request, principal, idempotency_key)
        return _response(await notifications.accept_bulk(ctx, data, granted))

    @get("/", **operation("listNotifications", "notifications:read"))
    async def list_notifications(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        status: Annotated[
            list[Status] | None,
            QueryParameter(description="Only these statuses (repeat the parameter for several)"),
        ] = None,
        event_type: Annotated[
            str | None, QueryParameter(max_length=100, pattern=EVENT_PATTERN, description="Event type")
        ] = None,
        batch_id: Annotated[
            str | None,
            QueryParameter(max_length=64, pattern=BATCH_ID_PATTERN, description="Only this bulk batch's"),
        ] = None,
        recipient: Annotated[
            str | None,
            QueryParameter(
                pattern=E164_PATTERN, max_length=E164_MAX_LENGTH, description="The recipient, in E.164"
            ),
        ] = None,
        recipient_country: Annotated[
            str | None,
            QueryParameter(
                pattern=r"^[A-Za-z]{2}$",
                min_length=2,
                max_length=2,
                description="The recipient's country, ISO 3166 alpha-2 (`US`, `de`: either case)",
            ),
        ] = None,
        template: Annotated[
            str | None,
            QueryParameter(pattern=r"^[a-z0-9_]+$", max_length=512, description="The template's name"),
        ] = None,
        sender_id: Annotated[
            str | None, QueryParameter(pattern=ID_PATTERN, max_length=64, description="The sender's id")
        ] = None,
        priority: Annotated[Priority | None, QueryParameter(description="The priority")] = None,
        created_after: Annotated[datetime | None, time_parameter("Created at or after")] = None,
        created_before: Annotated[datetime | None, time_parameter("Created before")] = None,
        updated_after: Annotated[datetime | None, time_parameter("Last changed at or after")] = None,
        limit: PageLimit = DEFAULT_PAGE,
        cursor: PageCursor = None,
    ) -> NotificationPage:
        """The tenant's notifications, newest first, a page at a time. Filters combine (all must
        hold); `metadata.<key>=<value>` (up to 10) keeps those whose metadata holds that value."""
        check_times(created_after=created_after, created_before=created_before, updated_after=updated_after)
        flt = NotificationFilter(
            statuses=tuple(status or ()),
            event_type=event_type,
            batch_id=batch_id,
            recipient=recipient,
            recipient_country=recipient_country.upper() if recipient_country is not None else None,
            template=template,
            sender_id=sender_id,
            priority=priority.value if priority is not None else None,
            metadata=metadata_filter(request.query_params.items()),
            created_after=created_after,
            created_before=created_before,
            updated_after=updated_after,
        )
        return await notifications.list(principal, flt, limit=limit, cursor=cursor)

    @get("/{notification_id:str}", **operation("getNotification", "notifications:read", errors=(404,)))
    async def read(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        notification_id: NotificationIdPath,
    ) -> NotificationView:
        """The notification's status document."""
        return await notifications.get(principal, notification_id)

    @get(
        "/{notification_id:str}/status",
        **operation("getNotificationStatus", "notifications:read", errors=(404,)),
    )
    async def read_status(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        notification_id: NotificationIdPath,
    ) -> NotificationStatus:
        """The lean status view: status, timestamps, the error and the attempts."""
        return await notifications.status(principal, notification_id)

    @get(
        "/{notification_id:str}/events",
        **operation("listNotificationEvents", "notifications:read", errors=(404,)),
    )
    async def history(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        notification_id: NotificationIdPath,
    ) -> NotificationHistory:
        """Every status change and attempt, oldest first: `from` → `to`, who made it, the error, the
        wamid and Meta's pricing. A row with `applied: false` recorded something that moved nothing
        (a late or superseded Meta report)."""
        return await notifications.history(principal, notification_id)

    @delete(
        "/{notification_id:str}",
        status_code=200,
        **operation("cancelNotification", "notifications:send", errors=(404, 409)),
    )
    async def cancel(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        notification_id: NotificationIdPath,
    ) -> NotificationView:
        """Cancel a notification not yet handed to Meta (scheduled, queued or rate limited)."""
        return await notifications.cancel(principal, notification_id)
