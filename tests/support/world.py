"""A tenant with a sender that exists both in our database and in the sandbox."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.config import MetaSettings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.template import MetaTemplate
from wanotify.common.meta.client import MetaClient
from wanotify.common.template_sync import TemplateSyncer

ORDER_TEMPLATE = "Hi {{1}}, your order {{2}} is confirmed. Total: {{3}}."


class TenantFixture(msgspec.Struct, frozen=True):
    tenant_id: str
    api_key: str
    sender_id: str
    phone_number_id: str
    waba_id: str
    access_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def template(name: str, language: str, body: str, status: str = "APPROVED") -> dict[str, Any]:
    return {
        "name": name,
        "language": language,
        "status": status,
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body}],
    }


async def make_tenant(
    engine: AsyncEngine, box: SecretBox, sandbox_url: str | None, *, scopes: tuple[str, ...] | None = None
) -> TenantFixture:
    suffix = secrets.token_hex(4)
    phone_number_id = str(100_000_000_000 + secrets.randbelow(899_999_999_999))
    waba_id = f"waba{suffix}"
    token = "EAA" + secrets.token_urlsafe(24)
    async with UnitOfWork(engine) as uow:
        tenant_id = await uow.tenants.create(f"tenant {suffix}")
        kwargs: dict[str, Any] = {"scopes": scopes} if scopes else {}
        _, key = await uow.tenants.create_key(tenant_id, **kwargs)
        sender_id = await uow.senders.add(
            tenant_id,
            phone_number_id=phone_number_id,
            waba_id=waba_id,
            display_phone_number="+15550100002",
            access_token_encrypted=box.encrypt(token, context=phone_number_id.encode()),
        )
        await uow.commit()
    if sandbox_url:
        async with httpx.AsyncClient(base_url=sandbox_url) as http:
            r = await http.post(
                "/_sandbox/phone-numbers",
                json={
                    "phone_number_id": phone_number_id,
                    "waba_id": waba_id,
                    "access_token": token,
                    "display_phone_number": "+15550100002",
                },
            )
            r.raise_for_status()
            for t in DEFAULT_TEMPLATES:
                (await http.post("/_sandbox/templates", json={"waba_id": waba_id, **t})).raise_for_status()
        await sync_templates(engine, box, sandbox_url, tenant_id)
    else:  # no Meta to sync from: put the same templates straight into the registry
        async with UnitOfWork(engine) as uow:
            await uow.templates.upsert(
                tenant_id, waba_id, [msgspec.convert(t, MetaTemplate) for t in DEFAULT_TEMPLATES]
            )
            await uow.commit()
    return TenantFixture(tenant_id, key, sender_id, phone_number_id, waba_id, token)


DEFAULT_TEMPLATES = (
    template("order_confirmation", "en_US", ORDER_TEMPLATE),
    template("hello", "en", "Hello from wa-notify."),
)


async def sync_templates(engine: AsyncEngine, box: SecretBox, sandbox_url: str, tenant_id: str) -> None:
    """Our registry from the sandbox's template listing: the production sync code, over HTTP."""
    async with httpx.AsyncClient() as http:
        syncer = TemplateSyncer(
            lambda: UnitOfWork(engine), MetaClient(MetaSettings(graph_base_url=sandbox_url), http), box
        )
        results = await syncer.sync_tenant(tenant_id)
    assert results and not any(r.error for r in results), results


async def wait_window(engine: AsyncEngine, tenant: TenantFixture, phone: str, timeout: float = 15) -> None:
    """Wait for the receiver to record an inbound message from ``phone`` (the sandbox posts it)."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        async with UnitOfWork(engine) as uow:
            if await uow.windows.last_inbound(tenant.sender_id, phone) is not None:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"no inbound message from {phone} was recorded")
        await asyncio.sleep(0.05)


async def put_registry_templates(engine: AsyncEngine, tenant: TenantFixture, *items: dict[str, Any]) -> None:
    """Templates straight into our registry (what a sync would write), e.g. to model a stale registry."""
    async with UnitOfWork(engine) as uow:
        await uow.templates.upsert(
            tenant.tenant_id, tenant.waba_id, [msgspec.convert(t, MetaTemplate) for t in items]
        )
        await uow.commit()


async def open_window(engine: AsyncEngine, tenant: TenantFixture, phone: str) -> None:
    """Record an inbound message from ``phone`` now, as the receiver does: the window is open."""
    from datetime import UTC, datetime

    async with UnitOfWork(engine) as uow:
        await uow.windows.touch(tenant.sender_id, phone, datetime.now(UTC))
        await uow.commit()


def order_request(phone: str = "+14155550123", **extra: Any) -> dict[str, Any]:
    return {
        "event_type": "order.placed",
        "recipient": {"phone_number": phone},
        "template": {
            "name": "order_confirmation",
            "language": "en_US",
            "parameters": [
                {"type": "text", "value": "Ana"},
                {"type": "text", "value": "ORD-1"},
                {"type": "currency", "value": "99.99", "code": "USD"},
            ],
        },
        "metadata": {"order_id": "ORD-1"},
        **extra,
    }


async def add_sandbox_templates(sandbox_url: str, waba_id: str, *items: dict[str, Any]) -> None:
    """Templates at 'Meta' (the sandbox); our registry learns of them on the next sync."""
    async with httpx.AsyncClient(base_url=sandbox_url) as http:
        for t in items:
            (await http.post("/_sandbox/templates", json={"waba_id": waba_id, **t})).raise_for_status()


def meta_template(
    name: str,
    language: str,
    components: list[dict[str, Any]],
    *,
    status: str = "APPROVED",
    parameter_format: str = "POSITIONAL",
) -> dict[str, Any]:
    return {
        "name": name,
        "language": language,
        "status": status,
        "category": "UTILITY",
        "parameter_format": parameter_format,
        "components": components,
    }
