"""Builders for the rows tests start from: say only what the test is about, the rest is a default.

- :func:`notification` an accepted notification (not stored), :func:`store` writes them as the API
  would (an ``accepted`` log row each, nothing published), :func:`stored_notification` both;
- tenants and their sender: ``world.make_tenant`` (in our database and, given a sandbox, in Meta's);
- templates: ``world.template`` (a registry row) and ``world.meta_template`` (Meta's shape).
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.world import TenantFixture
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.message import TemplateContent
from wanotify.common.domain.notification import NewNotification
from wanotify.common.domain.status import Status
from wanotify.common.ids import new_id

_DEFAULT = NewNotification(
    id="",
    tenant_id="",
    sender_id="",
    event_type="t",
    recipient_phone="+14155550123",
    priority="normal",
    status=Status.QUEUED,
    message=TemplateContent(name="hello", language="en"),
    metadata={},
    max_attempts=5,
    scheduled_for=None,
    next_attempt_at=None,
    batch_id=None,
    trace_id=None,
    traceparent=None,
)


def notification(tenant: TenantFixture, **fields: Any) -> NewNotification:
    """A ``hello`` template notification for the tenant's sender, with ``fields`` changed."""
    return msgspec.structs.replace(
        _DEFAULT,
        id=new_id("notif"),
        tenant_id=tenant.tenant_id,
        sender_id=tenant.sender_id,
        **fields,
    )


async def store(engine: AsyncEngine, *items: NewNotification) -> list[str]:
    async with UnitOfWork(engine) as uow:
        created = await uow.notifications.add_many(list(items))
        await uow.commit()
    return [n.id for n in created]


async def stored_notification(engine: AsyncEngine, tenant: TenantFixture, **fields: Any) -> str:
    [nid] = await store(engine, notification(tenant, **fields))
    return nid
