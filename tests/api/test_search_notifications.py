"""``GET /v1/notifications`` as a search: each documented filter, their combination, tenant
isolation and the bad inputs. The rows are stored scheduled a day ahead, so no worker of the
session moves them while a test reads them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.builders import stored_notification
from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.common.crypto import SecretBox
from wanotify.common.domain.message import TemplateContent
from wanotify.common.domain.status import Status

Client = AsyncTestClient[Any]
LATER = datetime.now(UTC) + timedelta(days=1)


async def _stored(engine: AsyncEngine, tenant: TenantFixture, **fields: Any) -> str:
    return await stored_notification(
        engine, tenant, status=Status.SCHEDULED, scheduled_for=LATER, next_attempt_at=LATER, **fields
    )


async def _found(api: Client, tenant: TenantFixture, params: Any) -> set[str]:
    r = await api.get("/v1/notifications", params=params, headers=tenant.auth)
    assert r.status_code == 200, r.text
    return {n["id"] for n in r.json()["notifications"]}


async def test_each_filter_finds_what_it_names(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    order = f"ORD-{secrets.token_hex(3)}"
    ana = f"+1415555{secrets.randbelow(10**4):04d}"
    first = await _stored(engine, tenant, recipient_phone=ana, metadata={"order_id": order, "shop": "eu"})
    second = await _stored(
        engine,
        tenant,
        priority="high",
        metadata={"order_id": order, "shop": "us"},
        message=TemplateContent(name="shipping_update", language="en"),
    )
    other = await _stored(engine, tenant, event_type="other.thing", metadata={"order_id": "ORD-else"})
    mine = {first, second, other}

    assert await _found(api, tenant, {"recipient": ana}) == {first}
    assert await _found(api, tenant, {"template": "shipping_update"}) & mine == {second}
    assert await _found(api, tenant, {"priority": "high"}) & mine == {second}
    assert await _found(api, tenant, {"sender_id": tenant.sender_id, "limit": 100}) >= mine
    assert await _found(api, tenant, {"sender_id": "snd_nobody"}) == set()
    assert await _found(api, tenant, {"event_type": "other.thing"}) & mine == {other}
    assert await _found(api, tenant, {"metadata.order_id": order}) == {first, second}
    assert await _found(api, tenant, {"metadata.order_id": order, "metadata.shop": "us"}) == {second}
    assert await _found(api, tenant, {"metadata.order_id": order, "priority": "normal"}) == {first}
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    long_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert await _found(api, tenant, {"metadata.order_id": order, "created_after": soon}) == set()
    assert await _found(api, tenant, {"metadata.order_id": order, "created_before": soon}) == {first, second}
    assert await _found(api, tenant, {"metadata.order_id": order, "created_after": long_ago}) == {
        first,
        second,
    }
    assert await _found(api, tenant, {"metadata.order_id": order, "updated_after": soon}) == set()


async def test_a_search_pages_newest_first(api: Client, tenant: TenantFixture, engine: AsyncEngine) -> None:
    order = f"ORD-{secrets.token_hex(3)}"
    stored = [await _stored(engine, tenant, metadata={"order_id": order}) for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {
            "metadata.order_id": order,
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        r = await api.get("/v1/notifications", params=params, headers=tenant.auth)
        page = r.json()
        seen += [n["id"] for n in page["notifications"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(stored))


async def test_another_tenants_notifications_are_never_found(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox, sandbox_url: str
) -> None:
    order = f"ORD-{secrets.token_hex(3)}"
    await _stored(engine, tenant, metadata={"order_id": order})
    other = await make_tenant(engine, box, sandbox_url)
    assert await _found(api, other, {"metadata.order_id": order}) == set()
    assert await _found(api, other, {"sender_id": tenant.sender_id}) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"recipient": "12345"}, "recipient"),
        ({"template": "Not-A-Name"}, "template"),
        ({"priority": "urgent"}, "priority"),
        ({"sender_id": "bad id"}, "sender_id"),
        ({"created_after": "2026-12-01T00:00:00"}, "created_after"),  # no time zone
        ({"updated_after": "yesterday"}, "updated_after"),
        ({"metadata.bad key": "x"}, "metadata.bad key"),
        ({"metadata.order_id": "nul\x00"}, "metadata.order_id"),
        ({"metadata.order_id": "x" * 257}, "metadata.order_id"),
        ({f"metadata.k{i}": "v" for i in range(11)}, "metadata.*"),
    ],
)
async def test_a_bad_filter_is_a_400_naming_it(
    api: Client, tenant: TenantFixture, params: dict[str, str], field: str
) -> None:
    r = await api.get("/v1/notifications", params=params, headers=tenant.auth)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["field"] == field and error["trace_id"]


async def test_recipient_country_is_derived_shown_and_searchable(api: Client, tenant: TenantFixture) -> None:
    later = LATER.isoformat()
    uk = {**order_request("+442071234567"), "scheduled_for": later}
    created = await api.post("/v1/notifications", json=uk, headers=tenant.auth)
    assert created.status_code == 201, created.text
    nid = created.json()["id"]

    assert (await api.get(f"/v1/notifications/{nid}", headers=tenant.auth)).json()[
        "recipient_country"
    ] == "GB"
    status = await api.get(f"/v1/notifications/{nid}/status", headers=tenant.auth)
    assert status.json()["recipient_country"] == "GB"
    assert nid in await _found(api, tenant, {"recipient_country": "GB"})
    assert nid in await _found(api, tenant, {"recipient_country": "gb"})
    assert nid not in await _found(api, tenant, {"recipient_country": "US"})
    bad = await api.get("/v1/notifications", params={"recipient_country": "GBR"}, headers=tenant.auth)
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "recipient_country"


async def test_an_impossible_number_is_a_422_alone_and_in_a_batch(api: Client, tenant: TenantFixture) -> None:
    one = await api.post("/v1/notifications", json=order_request("+15550102"), headers=tenant.auth)
    assert one.status_code == 422, one.text
    assert one.json()["error"]["code"] == "IMPOSSIBLE_PHONE_NUMBER"
    assert one.json()["error"]["field"] == "recipient.phone_number"

    bulk = {"notifications": [order_request("+14155550123"), order_request("+9991234567")]}
    r = await api.post("/v1/notifications/bulk", json=bulk, headers=tenant.auth)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["queued"] == 1
    assert body["errors"] == [
        {
            "index": 1,
            "code": "IMPOSSIBLE_PHONE_NUMBER",
            "message": body["errors"][0]["message"],
            "field": "notifications[1].recipient.phone_number",
        }
    ]
