"""``/v1/webhooks``: a tenant's endpoints for client events (``webhooks:manage``; reads
``webhooks:read``). Another tenant's endpoint is a 404."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from wanotify.api.dto import JsonBody
from wanotify.api.notifications.schemas import EVENT_PATTERN, ID_PATTERN
from wanotify.api.openapi import operation
from wanotify.api.paging import DEFAULT_PAGE, PageCursor, PageLimit
from wanotify.api.query import Since, Until, check_times
from wanotify.api.webhooks.schemas import (
    DeliveryPage,
    Recovered,
    RecoverIn,
    Redelivered,
    RotatedSecret,
    TestOutcome,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
)
from wanotify.api.webhooks.service import WebhookService
from wanotify.common.domain.notification import Principal

MANAGE = "webhooks:manage"
READ = "webhooks:read"
WebhookIdPath = Annotated[
    str, PathParameter(pattern=ID_PATTERN, max_length=64, description="The endpoint's id")
]
DeliveryIdPath = Annotated[
    str, PathParameter(pattern=ID_PATTERN, max_length=64, description="The delivery's id")
]
DeliveryStatus = Literal["pending", "delivering", "succeeded", "failed", "held"]


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["webhooks"]

    @post(
        "/",
        dto=JsonBody[WebhookIn],
        return_dto=None,
        status_code=201,
        **operation("createWebhook", MANAGE, body=True, errors=(422,)),
    )
    async def create_webhook(
        self,
        data: JSONBody[WebhookIn],
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
    ) -> WebhookCreated:
        """Register an endpoint for the event types it lists; the answer holds its secret, once."""
        return await webhooks.create(principal, data)

    @get("/", **operation("listWebhooks", READ))
    async def list_webhooks(
        self,
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        limit: PageLimit = DEFAULT_PAGE,
        cursor: PageCursor = None,
    ) -> WebhookPage:
        """The tenant's endpoints, newest first."""
        return await webhooks.page(principal, limit=limit, cursor=cursor)

    @get("/{webhook_id:str}", **operation("getWebhook", READ, errors=(404,)))
    async def get_webhook(
        self,
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
    ) -> WebhookOut:
        """One endpoint (never its secret)."""
        return await webhooks.get(principal, webhook_id)

    @patch(
        "/{webhook_id:str}",
        dto=JsonBody[WebhookPatch],
        return_dto=None,
        **operation("updateWebhook", MANAGE, body=True, errors=(404, 422)),
    )
    async def update_webhook(
        self,
        data: JSONBody[WebhookPatch],
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
    ) -> WebhookOut:
        """Change its URL, event types, description, metadata, or enable or disable it."""
        return await webhooks.update(principal, webhook_id, data)

    @delete("/{webhook_id:str}", status_code=204, **operation("deleteWebhook", MANAGE, errors=(404,)))
    async def delete_webhook(
        self,
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
    ) -> None:
        """Remove the endpoint and its delivery log."""
        await webhooks.delete(principal, webhook_id)

    @post(
        "/{webhook_id:str}/rotate-secret",
        status_code=200,
        **operation("rotateWebhookSecret", MANAGE, errors=(404,)),
    )
    async def rotate_secret(
        self,
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
    ) -> RotatedSecret:
        """A new secret; deliveries are signed with both until the overlap ends."""
        return await webhooks.rotate(principal, webhook_id)

    @post("/{webhook_id:str}/enable", status_code=200, **operation("enableWebhook", MANAGE, errors=(404,)))
    async def enable_webhook(
        self,
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
    ) -> WebhookOut:
        """Enable an endpoint that was disabled (by a 410, a long run of failures, or by you);
        ``recover`` then sends what was held meanwhile."""
        return await webhooks.enable(principal, webhook_id)

    @get("/{webhook_id:str}/deliveries", **operation("listWebhookDeliveries", READ, errors=(404,)))
    async def list_deliveries(
        self,
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
        status: Annotated[DeliveryStatus | None, QueryParameter(description="Delivery status")] = None,
        event_type: Annotated[
            str | None, QueryParameter(max_length=64, pattern=EVENT_PATTERN, description="Event type")
        ] = None,
        notification_id: Annotated[
            str | None, QueryParameter(max_length=64, pattern=ID_PATTERN, description="Notification id")
        ] = None,
        since: Since = None,
        until: Until = None,
        limit: PageLimit = DEFAULT_PAGE,
        cursor: PageCursor = None,
    ) -> DeliveryPage:
        """The endpoint's delivery log, newest first: each event with its last attempt."""
        check_times(since=since, until=until)
        return await webhooks.deliveries(
            principal,
            webhook_id,
            status=status,
            event_type=event_type,
            notification_id=notification_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    @post(
        "/{webhook_id:str}/deliveries/{delivery_id:str}/retry",
        status_code=202,
        **operation("retryWebhookDelivery", MANAGE, errors=(404,)),
    )
    async def retry_delivery(
        self,
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
        delivery_id: DeliveryIdPath,
    ) -> Redelivered:
        """Deliver this event to the endpoint again, now."""
        return await webhooks.redeliver(principal, webhook_id, delivery_id)

    @post(
        "/{webhook_id:str}/recover",
        dto=JsonBody[RecoverIn],
        return_dto=None,
        status_code=202,
        **operation("recoverWebhookDeliveries", MANAGE, body=True, errors=(404, 422)),
    )
    async def recover(
        self,
        data: JSONBody[RecoverIn],
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
    ) -> Recovered:
        """Deliver again every event that failed (or was held) in a time range."""
        return await webhooks.recover(principal, webhook_id, data)

    @post("/{webhook_id:str}/test", status_code=200, **operation("testWebhook", MANAGE, errors=(404,)))
    async def test_webhook(
        self,
        principal: NamedDependency[Principal],
        webhooks: NamedDependency[WebhookService],
        webhook_id: WebhookIdPath,
    ) -> TestOutcome:
        """Send a ``webhook.test`` event now and answer with what the endpoint made of it."""
        return await webhooks.send_test(principal, webhook_id)
