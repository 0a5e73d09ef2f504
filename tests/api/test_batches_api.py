"""``/v1/batches``: a bulk batch's counts by status and its notifications, a page at a time, for
the tenant that sent it only."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.common.crypto import SecretBox
from wanotify.common.db.schema import notifications
from wanotify.common.domain.status import Status

Client = AsyncTestClient[Any]


async def _bulk(
    api: Client, tenant: TenantFixture, count: int, batch_id: str | None = None
) -> tuple[str, list[str]]:
    phones = [f"+1415555{secrets.randbelow(10**4):04d}" for _ in range(count)]
    # Scheduled a day ahead: no worker of the session dispatches them while a test moves them.
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body: dict[str, Any] = {"notifications": [order_request(p, scheduled_for=later) for p in phones]}
    if batch_id:
        body["batch_id"] = batch_id
    r = await api.post("/v1/notifications/bulk", json=body, headers=tenant.auth)
    assert r.status_code == 202, r.text
    return r.json()["batch_id"], [item["id"] for item in r.json()["notifications"]]


async def _settle(engine: AsyncEngine, ids: list[str], status: Status) -> None:
    """Moved by hand: the counts, not the dispatch, are under test."""
    async with engine.begin() as conn:
        await conn.execute(
            update(notifications).where(notifications.c.id.in_(ids)).values(status=status.value)
        )


async def test_a_batch_counts_its_notifications_by_status(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    batch_id, ids = await _bulk(api, tenant, 5, batch_id=f"orders-{secrets.token_hex(4)}")
    assert len(ids) == 5
    await _settle(engine, ids[:2], Status.READ)
    await _settle(engine, ids[2:3], Status.FAILED)
    await _settle(engine, ids[3:], Status.SENT)
    r = await api.get(f"/v1/batches/{batch_id}", headers=tenant.auth)
    assert r.status_code == 200, r.text
    batch = r.json()
    assert (batch["id"], batch["total"], batch["settled"]) == (batch_id, 5, 3)
    assert {k: v for k, v in batch["counts"].items() if v} == {"read": 2, "failed": 1, "sent": 2}
    assert set(batch["counts"]) == {s.value for s in Status}  # every status, zero included
    assert batch["created_at"] <= batch["updated_at"]


async def test_a_batchs_notifications_come_a_page_at_a_time_and_filter_by_status(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    batch_id, ids = await _bulk(api, tenant, 5)
    await _bulk(api, tenant, 2)  # another batch of the same tenant: not listed
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await api.get(f"/v1/batches/{batch_id}/notifications", params=params, headers=tenant.auth)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["notifications"]) <= 2
        seen += [n["id"] for n in page["notifications"]]
        assert all(n["batch_id"] == batch_id for n in page["notifications"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    await _settle(engine, ids[:1], Status.FAILED)
    r = await api.get(
        f"/v1/batches/{batch_id}/notifications", params={"status": "failed"}, headers=tenant.auth
    )
    assert [n["id"] for n in r.json()["notifications"]] == ids[:1]
    # The same filter on the notification list.
    r = await api.get("/v1/notifications", params={"batch_id": batch_id, "limit": 100}, headers=tenant.auth)
    assert sorted(n["id"] for n in r.json()["notifications"]) == sorted(ids)


async def test_another_tenants_batch_and_an_unknown_one_are_404(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox, sandbox_url: str
) -> None:
    shared_name = f"shared-{secrets.token_hex(4)}"
    await _bulk(api, tenant, 1, batch_id=shared_name)
    other = await make_tenant(engine, box, sandbox_url)
    for path in (f"/v1/batches/{shared_name}", f"/v1/batches/{shared_name}/notifications"):
        r = await api.get(path, headers=other.auth)
        assert r.status_code == 404, r.text
        error = r.json()["error"]
        assert (error["code"], error["field"]) == ("NOT_FOUND", "batch_id") and error["trace_id"]
    # The other tenant's own batch of the same name is its own.
    await _bulk(api, other, 3, batch_id=shared_name)
    assert (await api.get(f"/v1/batches/{shared_name}", headers=other.auth)).json()["total"] == 3
    assert (await api.get(f"/v1/batches/{shared_name}", headers=tenant.auth)).json()["total"] == 1


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/batches/bad%20id", {}),
        ("/v1/batches/" + "x" * 65, {}),
        ("/v1/batches/ok/notifications", {"limit": "0"}),
        ("/v1/batches/ok/notifications", {"status": "lost"}),
        ("/v1/batches/ok/notifications", {"cursor": "not a cursor!"}),
        ("/v1/notifications", {"batch_id": "bad id"}),
    ],
)
async def test_bad_input_is_a_400_naming_the_parameter(
    api: Client, tenant: TenantFixture, path: str, params: dict[str, str]
) -> None:
    r = await api.get(path, params=params, headers=tenant.auth)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["field"] and error["trace_id"]


async def test_reading_a_batch_needs_the_read_scope(
    api: Client, engine: AsyncEngine, box: SecretBox, sandbox_url: str
) -> None:
    sender_only = await make_tenant(engine, box, sandbox_url, scopes=("notifications:send",))
    r = await api.get("/v1/batches/anything", headers=sender_only.auth)
    assert r.status_code == 403, r.text
