"""``/v1/dead-letters``: the failed notifications, filtered and paged, and their replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.common.crypto import SecretBox
from wanotify.common.db.schema import notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.tenant import TenantPolicy

Client = AsyncTestClient[Any]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


async def _failed(
    api: Client,
    engine: AsyncEngine,
    tenant: TenantFixture,
    *,
    minutes: int,
    code: str = "131026",
    event_type: str = "order.placed",
    priority: str = "normal",
    attempt: int = 3,
) -> str:
    later = (datetime.now(UTC) + timedelta(days=20)).isoformat()
    body = order_request(scheduled_for=later, priority=priority)
    body["event_type"] = event_type
    r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
    assert r.status_code == 201, r.text
    nid = str(r.json()["id"])
    async with engine.begin() as conn:
        await conn.execute(
            update(notifications)
            .where(notifications.c.id == nid)
            .values(
                status="failed",
                attempt=attempt,
                max_attempts=attempt,
                failed_at=BASE + timedelta(minutes=minutes),
                error_code=code,
                error_message="Message undeliverable",
                error_retryable=False,
                whatsapp_message_id=f"wamid.{nid}",
                next_attempt_at=None,
            )
        )
    return nid


async def test_list_filters_and_pages_newest_first(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    a = await _failed(api, engine, tenant, minutes=1)
    b = await _failed(api, engine, tenant, minutes=2, code="131047")
    c = await _failed(api, engine, tenant, minutes=3, event_type="invoice.due")
    d = await _failed(api, engine, tenant, minutes=4)
    other = await make_tenant(engine, box, None)
    await _failed(api, engine, other, minutes=5)

    first = await api.get("/v1/dead-letters", params={"limit": 2}, headers=tenant.auth)
    assert first.status_code == 200, first.text
    page1 = first.json()
    assert [x["id"] for x in page1["dead_letters"]] == [d, c]
    assert page1["dead_letters"][0]["error"] == {
        "code": "131026",
        "message": "Message undeliverable",
        "retryable": False,
    }
    assert page1["next_cursor"]
    page2 = (
        await api.get(
            "/v1/dead-letters", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=tenant.auth
        )
    ).json()
    assert [x["id"] for x in page2["dead_letters"]] == [b, a]
    assert page2["next_cursor"] is None

    async def ids(**params: Any) -> list[str]:
        r = await api.get("/v1/dead-letters", params=params, headers=tenant.auth)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["dead_letters"]]

    assert await ids(error_code="131047") == [b]
    assert await ids(event_type="invoice.due") == [c]
    assert await ids(
        since=(BASE + timedelta(minutes=2)).isoformat(), until=(BASE + timedelta(minutes=4)).isoformat()
    ) == [c, b]


async def test_list_validates_its_parameters(api: Client, tenant: TenantFixture) -> None:
    for params, field in (
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-01-01T00:00:00"}, "until"),  # no time zone
    ):
        r = await api.get("/v1/dead-letters", params=params, headers=tenant.auth)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["field"] == field


async def test_replay_by_ids_sends_them_again_as_new_attempts(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    async with UnitOfWork(engine) as uow:
        await uow.tenants.set_policy(tenant.tenant_id, TenantPolicy(max_attempts={"high": 4}))
        await uow.commit()
    high = await _failed(api, engine, tenant, minutes=1, priority="high", attempt=2)
    normal = await _failed(api, engine, tenant, minutes=2, attempt=5)
    untouched = await _failed(api, engine, tenant, minutes=3)

    r = await api.post(
        "/v1/dead-letters/replay", json={"ids": [high, normal, "notif_unknown"]}, headers=tenant.auth
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["replayed"] == 2
    assert set(body["ids"]) == {high, normal}
    assert body["not_replayed"] == ["notif_unknown"]

    async with UnitOfWork(engine) as uow:
        for nid, attempt, max_attempts in ((high, 2, 6), (normal, 5, 10)):
            n = await uow.notifications.get(nid)
            assert n is not None
            assert n.status.value != "failed"
            assert n.max_attempts == max_attempts  # attempt + the tenant's attempts for the priority
            assert n.attempt >= attempt
            history = await uow.notifications.history(nid)
            replayed = [h for h in history if h["event"] == "replayed"]
            assert replayed and replayed[0]["status"] == "queued"
        untouched_n = await uow.notifications.get(untouched)
    assert untouched_n is not None and untouched_n.status.value == "failed"
    listed = (await api.get("/v1/dead-letters", headers=tenant.auth)).json()["dead_letters"]
    assert [x["id"] for x in listed] == [untouched]


async def test_replay_by_filter(api: Client, tenant: TenantFixture, engine: AsyncEngine) -> None:
    a = await _failed(api, engine, tenant, minutes=1, code="131000")
    b = await _failed(api, engine, tenant, minutes=2, code="131026")
    r = await api.post(
        "/v1/dead-letters/replay", json={"filter": {"error_code": "131000"}}, headers=tenant.auth
    )
    assert r.status_code == 200, r.text
    assert r.json()["ids"] == [a]
    listed = (await api.get("/v1/dead-letters", headers=tenant.auth)).json()["dead_letters"]
    assert [x["id"] for x in listed] == [b]


async def test_replay_validates_and_checks_scopes(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    for body in ({}, {"ids": ["x"], "filter": {}}):  # the document cannot say "exactly one": a rule, 422
        r = await api.post("/v1/dead-letters/replay", json=body, headers=tenant.auth)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == "INVALID_COMBINATION"
    bodies: list[dict[str, Any]] = [
        {"ids": []},
        {"ids": [f"n{i}" for i in range(1001)]},
    ]
    for body in bodies:
        r = await api.post("/v1/dead-letters/replay", json=body, headers=tenant.auth)
        assert r.status_code == 400, (body, r.text)
    r = await api.post(
        "/v1/dead-letters/replay", content=b"{", headers={**tenant.auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "MALFORMED_JSON"

    reader = await make_tenant(engine, box, None, scopes=("dead_letters:read",))
    assert (await api.get("/v1/dead-letters", headers=reader.auth)).status_code == 200
    assert (
        await api.post("/v1/dead-letters/replay", json={"ids": ["x"]}, headers=reader.auth)
    ).status_code == 403
    sender_only = await make_tenant(engine, box, None, scopes=("notifications:send",))
    assert (await api.get("/v1/dead-letters", headers=sender_only.auth)).status_code == 403
