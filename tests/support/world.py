"""A tenant with a sender that exists both in our database and in the sandbox."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork

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
            for t in (
                template("order_confirmation", "en_US", ORDER_TEMPLATE),
                template("hello", "en", "Hello from wa-notify."),
            ):
                (await http.post("/_sandbox/templates", json={"waba_id": waba_id, **t})).raise_for_status()
    return TenantFixture(tenant_id, key, sender_id, phone_number_id, waba_id, token)


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
