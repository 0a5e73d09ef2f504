"""``/v1/webhooks``: registering, reading, changing, rotating and removing endpoints; every refusal
a 422 (or 400 for a body that does not parse) naming the field; another tenant's endpoint a 404."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.world import TenantFixture, make_tenant
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.schema import webhook_endpoints

Client = AsyncTestClient[Any]
URL = "https://hooks.example.com/wa"


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[Client]:
    """The API with the production rules: https only, no private networks, at most 2 endpoints."""
    from wanotify.api.app import create_app

    hooks = msgspec.structs.replace(
        settings.webhooks, allow_http=False, allow_private_networks=False, max_endpoints_per_tenant=2
    )
    async with AsyncTestClient(create_app(msgspec.structs.replace(settings, webhooks=hooks))) as client:
        yield client


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["trace_id"]
    return error


async def test_an_endpoint_round_trip(api: Client, tenant: TenantFixture, engine: AsyncEngine) -> None:
    r = await api.post(
        "/v1/webhooks",
        json={
            "url": URL,
            "events": ["sent", "notification.*"],
            "description": "orders",
            "metadata": {"a": "b"},
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    secret, webhook = created["secret"], created["webhook"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert webhook["events"] == ["notification.sent", "notification.*"]  # aliases expanded
    assert webhook["enabled"] is True and "secret" not in webhook
    assert (webhook["breaker"], webhook["breaker_open_until"], webhook["failing_since"]) == (
        "closed",
        None,
        None,
    )
    async with engine.connect() as conn:
        stored = await conn.scalar(
            select(webhook_endpoints.c.secret_encrypted).where(webhook_endpoints.c.id == webhook["id"])
        )
    assert secret.encode() not in stored  # encrypted at rest

    r = await api.get(f"/v1/webhooks/{webhook['id']}", headers=tenant.auth)
    assert r.json() == webhook
    r = await api.patch(
        f"/v1/webhooks/{webhook['id']}", json={"events": ["read"], "enabled": False}, headers=tenant.auth
    )
    assert r.status_code == 200, r.text
    assert r.json()["events"] == ["notification.read"] and r.json()["enabled"] is False
    assert r.json()["disabled_reason"]
    r = await api.patch(f"/v1/webhooks/{webhook['id']}", json={"enabled": True}, headers=tenant.auth)
    assert r.json()["enabled"] is True and r.json()["disabled_reason"] is None

    listed = (await api.get("/v1/webhooks", headers=tenant.auth)).json()
    assert [w["id"] for w in listed["webhooks"]] == [webhook["id"]] and listed["next_cursor"] is None

    assert (await api.delete(f"/v1/webhooks/{webhook['id']}", headers=tenant.auth)).status_code == 204
    _error(await api.get(f"/v1/webhooks/{webhook['id']}", headers=tenant.auth), 404)


async def test_a_supplied_secret_is_kept_and_pages_follow_the_cursor(
    api: Client, tenant: TenantFixture
) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    r = await api.post(
        "/v1/webhooks", json={"url": URL, "events": ["*"], "secret": secret}, headers=tenant.auth
    )
    assert r.json()["secret"] == secret
    for _ in range(2):
        await api.post("/v1/webhooks", json={"url": URL, "events": ["*"]}, headers=tenant.auth)
    first = (await api.get("/v1/webhooks", params={"limit": 2}, headers=tenant.auth)).json()
    rest = (
        await api.get(
            "/v1/webhooks", params={"limit": 2, "cursor": first["next_cursor"]}, headers=tenant.auth
        )
    ).json()
    ids = [w["id"] for w in first["webhooks"] + rest["webhooks"]]
    assert len(ids) == len(set(ids)) == 3 and rest["next_cursor"] is None


async def test_another_tenants_endpoint_is_not_found(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    other = await make_tenant(engine, box, None)
    r = await api.post("/v1/webhooks", json={"url": URL, "events": ["*"]}, headers=other.auth)
    theirs = r.json()["webhook"]["id"]
    for method, path in [
        ("GET", f"/v1/webhooks/{theirs}"),
        ("PATCH", f"/v1/webhooks/{theirs}"),
        ("DELETE", f"/v1/webhooks/{theirs}"),
        ("POST", f"/v1/webhooks/{theirs}/rotate-secret"),
        ("POST", f"/v1/webhooks/{theirs}/enable"),
        ("GET", f"/v1/webhooks/{theirs}/deliveries"),
        ("POST", f"/v1/webhooks/{theirs}/deliveries/whd_0123/retry"),
        ("POST", f"/v1/webhooks/{theirs}/recover"),
    ]:
        bodies = {"PATCH": {"enabled": False}, "POST": {"since": "2026-01-01T00:00:00Z"}}
        takes_body = method == "PATCH" or path.endswith("recover")
        kwargs: dict[str, Any] = {"json": bodies[method]} if takes_body else {}
        _error(await api.request(method, path, headers=tenant.auth, **kwargs), 404)
    assert (await api.get(f"/v1/webhooks/{theirs}", headers=other.auth)).json()["enabled"] is True


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": "not a url", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "ftp://hooks.example.com", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "http://hooks.example.com", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "https://127.0.0.1/hook", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "https://10.1.2.3/hook", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "https://169.254.169.254/latest/meta-data", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "https://[::1]/hook", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "https://[fd00::1]/hook", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "https://localhost/hook", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": "https://user:pw@hooks.example.com/", "events": ["*"]}, "url", "INVALID_WEBHOOK_URL"),
        ({"url": URL, "events": ["notification.nope"]}, "events[0]", "INVALID_EVENT_TYPE"),
        ({"url": URL, "events": ["read", "bogus.*"]}, "events[1]", "INVALID_EVENT_TYPE"),
        ({"url": URL, "events": ["*"], "secret": "plain"}, "secret", "INVALID_WEBHOOK_SECRET"),
        (
            {"url": URL, "events": ["*"], "secret": "whsec_" + base64.b64encode(b"k" * 23).decode()},
            "secret",
            "INVALID_WEBHOOK_SECRET",
        ),
    ],
)
async def test_bad_endpoints_are_refused_naming_the_field(
    strict: Client, tenant: TenantFixture, body: dict[str, Any], field: str, code: str
) -> None:
    error = _error(await strict.post("/v1/webhooks", json=body, headers=tenant.auth), 422)
    assert (error["field"], error["code"]) == (field, code)


async def test_a_name_that_resolves_to_a_private_address_is_refused(
    engine: AsyncEngine, tenant: TenantFixture, settings: Settings, box: SecretBox
) -> None:
    """DNS is the boundary here: a resolver that answers as a rebinding attacker's name server would."""
    from wanotify.api.webhooks.schemas import WebhookIn
    from wanotify.api.webhooks.service import WebhookService
    from wanotify.common.db.uow import UnitOfWork
    from wanotify.common.domain.errors import Unprocessable
    from wanotify.common.domain.notification import Principal
    from wanotify.common.webhooks.transport import WebhookTransport

    async def rebinding(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # one public answer, one private: refused

    strict = msgspec.structs.replace(settings.webhooks, allow_private_networks=False)
    transport = WebhookTransport(httpx.AsyncClient(), strict, rebinding)
    service = WebhookService(lambda: UnitOfWork(engine), box, strict, rebinding, transport)
    principal = Principal(tenant_id=tenant.tenant_id, key_id="k", scopes=frozenset({"webhooks:manage"}))
    with pytest.raises(Unprocessable) as refused:
        await service.create(principal, WebhookIn(url=URL, events=["*"]))
    assert (refused.value.field, refused.value.code) == ("url", "UNSAFE_WEBHOOK_DESTINATION")


async def test_the_endpoint_cap_is_a_422(strict: Client, tenant: TenantFixture) -> None:
    for _ in range(2):
        r = await strict.post("/v1/webhooks", json={"url": URL, "events": ["*"]}, headers=tenant.auth)
        assert r.status_code == 201, r.text
    error = _error(
        await strict.post("/v1/webhooks", json={"url": URL, "events": ["*"]}, headers=tenant.auth), 422
    )
    assert error["code"] == "TOO_MANY_WEBHOOKS"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["*"]}, "url"),
        ({"url": URL}, "events"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": ["*"], "extra": 1}, "extra"),
        ({"url": URL, "events": ["*"], "description": "a\x00b"}, "description"),
        ({"url": URL, "events": ["*"], "metadata": {"a\x00": "b"}}, "metadata"),  # a refused key
        ({"url": URL, "events": ["*"], "metadata": {"a": 5}}, "metadata"),  # a refused value
    ],
)
async def test_malformed_bodies_are_400_naming_the_field(
    api: Client, tenant: TenantFixture, body: dict[str, Any], field: str
) -> None:
    error = _error(await api.post("/v1/webhooks", json=body, headers=tenant.auth), 400)
    assert error["field"] == field


async def test_a_recover_range_must_run_forwards(api: Client, tenant: TenantFixture) -> None:
    r = await api.post("/v1/webhooks", json={"url": URL, "events": ["*"]}, headers=tenant.auth)
    hook = r.json()["webhook"]["id"]
    body = {"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
    error = _error(await api.post(f"/v1/webhooks/{hook}/recover", json=body, headers=tenant.auth), 422)
    assert error["field"] == "until"
    error = _error(
        await api.get(f"/v1/webhooks/{hook}/deliveries", params={"since": "2026-12-01"}, headers=tenant.auth),
        400,
    )
    assert error["field"] == "since"
