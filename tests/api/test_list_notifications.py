"""``GET /v1/notifications``: the tenant's notifications newest first, by keyset pages."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_notifications_api import error_of
from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.common.crypto import SecretBox

Client = AsyncTestClient[Any]


async def send(api: Client, tenant: TenantFixture, n: int, event_type: str = "order.placed") -> list[str]:
    ids = []
    for i in range(n):
        body = {**order_request(f"+1415555{i:04d}"), "event_type": event_type}
        r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def test_pages_walk_every_notification_newest_first_once(api: Client, tenant: TenantFixture) -> None:
    sent = await send(api, tenant, 5)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await api.get("/v1/notifications", params=params, headers=tenant.auth)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["notifications"]) <= 2
        seen += [n["id"] for n in page["notifications"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(sent))


async def test_filters_by_status_and_event_type(api: Client, tenant: TenantFixture) -> None:
    placed = await send(api, tenant, 2)
    shipped = await send(api, tenant, 1, event_type="order.shipped")
    assert (await api.delete(f"/v1/notifications/{placed[0]}", headers=tenant.auth)).status_code == 200

    def ids(r: Any) -> list[str]:
        assert r.status_code == 200, r.text
        return [n["id"] for n in r.json()["notifications"]]

    by_event = await api.get("/v1/notifications", params={"event_type": "order.shipped"}, headers=tenant.auth)
    assert ids(by_event) == shipped
    canceled = await api.get("/v1/notifications", params={"status": "canceled"}, headers=tenant.auth)
    assert ids(canceled) == [placed[0]]
    both = await api.get(
        "/v1/notifications", params=[("status", "canceled"), ("status", "queued")], headers=tenant.auth
    )
    assert set(ids(both)) == {*placed, *shipped}


async def test_another_tenants_notifications_are_not_listed(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox, sandbox_url: str
) -> None:
    await send(api, tenant, 1)
    other = await make_tenant(engine, box, sandbox_url)
    r = await api.get("/v1/notifications", headers=other.auth)
    assert r.json() == {"notifications": [], "next_cursor": None}


async def test_bad_listing_parameters_are_400_naming_the_parameter(
    api: Client, tenant: TenantFixture
) -> None:
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"status": "lost"}, "status"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    ):
        r = await api.get("/v1/notifications", params=params, headers=tenant.auth)
        assert r.status_code == 400, (params, r.text)
        assert error_of(r)["field"] == field, params
