"""``GET /v1/batches/{batch_id}`` and ``GET /v1/batches/{batch_id}/notifications`` (scope
``notifications:read``): a bulk batch's counts and its notifications. A batch is its notifications:
one the tenant has none in, another tenant's included, is a 404."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from wanotify.api.batches.schemas import BatchOut
from wanotify.api.notifications.schemas import BATCH_ID_PATTERN, NotificationPage
from wanotify.api.notifications.service import NotificationService
from wanotify.api.openapi import operation
from wanotify.api.paging import DEFAULT_PAGE, PageCursor, PageLimit
from wanotify.common.db.notification_filter import NotificationFilter
from wanotify.common.domain.notification import Principal
from wanotify.common.domain.status import Status

SCOPE = "notifications:read"

BatchIdPath = Annotated[
    str,
    PathParameter(
        pattern=BATCH_ID_PATTERN,
        max_length=64,
        description="The batch's id: the `batch_id` a bulk request gave or was answered with",
    ),
]


class BatchController(Controller):
    path = "/v1/batches"
    tags = ["notifications"]

    @get("/{batch_id:str}", **operation("getBatch", SCOPE, errors=(404,)))
    async def read(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        batch_id: BatchIdPath,
    ) -> BatchOut:
        """The batch's notifications counted by status, and when it was created and last changed."""
        return await notifications.batch(principal, batch_id)

    @get("/{batch_id:str}/notifications", **operation("listBatchNotifications", SCOPE, errors=(404,)))
    async def list_notifications(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        batch_id: BatchIdPath,
        status: Annotated[
            list[Status] | None,
            QueryParameter(description="Only these statuses (repeat the parameter for several)"),
        ] = None,
        limit: PageLimit = DEFAULT_PAGE,
        cursor: PageCursor = None,
    ) -> NotificationPage:
        """The batch's notifications, newest first, a page at a time."""
        await notifications.batch(principal, batch_id)  # 404 for a batch the tenant does not have
        flt = NotificationFilter(statuses=tuple(status or ()), batch_id=batch_id)
        return await notifications.list(principal, flt, limit=limit, cursor=cursor)
