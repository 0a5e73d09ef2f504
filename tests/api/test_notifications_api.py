"""The ingest API over its real stack (Litestar, PostgreSQL, the PostgreSQL queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.world import TenantFixture, make_tenant, open_window, order_request
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork

Client = AsyncTestClient[Any]


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field", "trace_id"}, body
    assert body["error"]["trace_id"], body
    return dict(body["error"])


async def test_create_returns_the_seed_shape_and_stores_the_row(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    r = await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "status", "recipient", "created_at", "estimated_delivery"}
    assert body["id"].startswith("notif_")
    assert body["status"] == "queued"
    assert body["recipient"] == "+14155550123"
    assert body["created_at"].endswith("Z")
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(body["id"])
        history = await uow.notifications.history(body["id"])
    assert n is not None
    assert n.tenant_id == tenant.tenant_id
    assert n.status.value == "queued"
    assert [h["event"] for h in history] == ["accepted"]


async def test_get_returns_the_status_document(api: Client, tenant: TenantFixture) -> None:
    created = (await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)).json()
    r = await api.get(f"/v1/notifications/{created['id']}", headers=tenant.auth)
    assert r.status_code == 200
    doc = r.json()
    for field in (
        "id",
        "event_type",
        "recipient",
        "status",
        "whatsapp_message_id",
        "created_at",
        "sent_at",
        "delivered_at",
        "read_at",
        "delivery_attempts",
        "metadata",
        "error",
    ):
        assert field in doc
    assert doc["metadata"] == {"order_id": "ORD-1"}
    assert doc["event_type"] == "order.placed"
    assert doc["delivery_attempts"] == 0
    assert doc["error"] is None


async def test_text_message_is_accepted(api: Client, tenant: TenantFixture, engine: AsyncEngine) -> None:
    await open_window(engine, tenant, "+351912345678")  # free-form text needs the window open
    r = await api.post(
        "/v1/notifications",
        json={
            "event_type": "support.reply",
            "recipient": {"phone_number": "+351912345678"},
            "message": {"text": "Olá! ✓", "preview_url": True},
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text


async def test_future_schedule_is_scheduled_not_queued(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    when = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    r = await api.post("/v1/notifications", json=order_request(scheduled_for=when), headers=tenant.auth)
    assert r.status_code == 201
    assert r.json()["status"] == "scheduled"
    async with engine.connect() as conn:
        depth = (
            await conn.execute(
                text("SELECT count(*) FROM queue_messages WHERE body LIKE :id"), {"id": f"%{r.json()['id']}%"}
            )
        ).scalar_one()
    assert depth == 0, "a scheduled notification must not be published before it is due"


async def test_accepted_notification_is_published(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    r = await api.post(
        "/v1/notifications",
        json=order_request(),
        headers={**tenant.auth, "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    )
    nid = r.json()["id"]
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT attributes FROM queue_messages WHERE body LIKE :id"), {"id": f"%{nid}%"}
            )
        ).one()
        enqueued = (
            await conn.execute(text("SELECT enqueued_at FROM notifications WHERE id=:id"), {"id": nid})
        ).scalar()
    assert row.attributes["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert enqueued is not None


# --- authentication and tenancy -------------------------------------------------------------


async def test_missing_key_is_401(api: Client) -> None:
    r = await api.post("/v1/notifications", json=order_request())
    assert r.status_code == 401
    assert error_of(r)["code"] == "UNAUTHORIZED"
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer wan_not-a-real-key", "Basic Zm9vOmJhcg==", "Bearer", "wan_xyz"])
async def test_bad_keys_are_401(api: Client, header: str) -> None:
    r = await api.get("/v1/notifications/notif_x", headers={"Authorization": header})
    assert r.status_code == 401
    assert error_of(r)["code"] == "UNAUTHORIZED"


async def test_revoked_and_expired_keys_are_401(
    api: Client, engine: AsyncEngine, tenant: TenantFixture
) -> None:
    async with UnitOfWork(engine) as uow:
        revoked_id, revoked = await uow.tenants.create_key(tenant.tenant_id, name="revoked")
        await uow.tenants.revoke_key(tenant.tenant_id, revoked_id)
        _, expired = await uow.tenants.create_key(
            tenant.tenant_id, name="expired", expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        await uow.commit()
    for key in (revoked, expired):
        r = await api.post(
            "/v1/notifications", json=order_request(), headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code == 401


async def test_a_key_without_the_scope_is_403(api: Client, engine: AsyncEngine, box: SecretBox) -> None:
    reader = await make_tenant(engine, box, None, scopes=("notifications:read",))
    r = await api.post("/v1/notifications", json=order_request(), headers=reader.auth)
    assert r.status_code == 403
    assert error_of(r)["code"] == "FORBIDDEN"


async def test_another_tenants_notification_is_404(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    other = await make_tenant(engine, box, None)
    nid = (await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)).json()["id"]
    r = await api.get(f"/v1/notifications/{nid}", headers=other.auth)
    assert r.status_code == 404
    assert error_of(r)["code"] == "NOT_FOUND"
    assert (await api.get(f"/v1/notifications/{nid}", headers=tenant.auth)).status_code == 200


async def test_tenant_without_sender_is_422(api: Client, engine: AsyncEngine) -> None:
    async with UnitOfWork(engine) as uow:
        tid = await uow.tenants.create("no sender")
        _, key = await uow.tenants.create_key(tid)
        await uow.commit()
    r = await api.post("/v1/notifications", json=order_request(), headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 422
    assert error_of(r)["code"] == "NO_SENDER"


# --- idempotency ------------------------------------------------------------------------------


async def test_same_key_same_body_replays_the_first_response(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    headers = {**tenant.auth, "X-Idempotency-Key": "order-1-confirmation"}
    first = await api.post("/v1/notifications", json=order_request(), headers=headers)
    second = await api.post("/v1/notifications", json=order_request(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    async with engine.connect() as conn:
        count = (
            await conn.execute(
                text("SELECT count(*) FROM notifications WHERE tenant_id = :t"), {"t": tenant.tenant_id}
            )
        ).scalar_one()
    assert count == 1


async def test_same_key_other_body_is_409(api: Client, tenant: TenantFixture) -> None:
    headers = {**tenant.auth, "X-Idempotency-Key": "k-409"}
    assert (await api.post("/v1/notifications", json=order_request(), headers=headers)).status_code == 201
    r = await api.post("/v1/notifications", json=order_request("+14155550199"), headers=headers)
    assert r.status_code == 409
    assert error_of(r)["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_idempotency_keys_are_per_tenant(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    other = await make_tenant(engine, box, None)
    a = await api.post(
        "/v1/notifications", json=order_request(), headers={**tenant.auth, "X-Idempotency-Key": "s"}
    )
    b = await api.post(
        "/v1/notifications", json=order_request(), headers={**other.auth, "X-Idempotency-Key": "s"}
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


# --- validation: every error has our shape and a stable code -----------------------------

BAD_BODIES: list[tuple[str, dict[str, Any], str, str | None]] = [
    ("phone without plus", order_request("14155550123"), "INVALID_PHONE_NUMBER", "recipient.phone_number"),
    ("phone too long", order_request("+1234567890123456"), "INVALID_PHONE_NUMBER", "recipient.phone_number"),
    ("phone with letters", order_request("+1415555abcd"), "INVALID_PHONE_NUMBER", "recipient.phone_number"),
    (
        "two-letter-only seed language",
        {**order_request(), "template": {"name": "x", "language": "english"}},
        "INVALID_TEMPLATE_LANGUAGE",
        "template.language",
    ),
    (
        "hyphenated locale",
        {**order_request(), "template": {"name": "x", "language": "en-US"}},
        "INVALID_TEMPLATE_LANGUAGE",
        "template.language",
    ),
    (
        "neither template nor message",
        {"event_type": "a", "recipient": {"phone_number": "+14155550123"}},
        "INVALID_COMBINATION",
        "template",
    ),
    (
        "both template and message",
        {**order_request(), "message": {"text": "x"}},
        "INVALID_COMBINATION",
        "template",
    ),
    (
        "text too long",
        {"event_type": "a", "recipient": {"phone_number": "+14155550123"}, "message": {"text": "x" * 4097}},
        "VALIDATION_ERROR",
        "message.text",
    ),
    (
        "empty text",
        {"event_type": "a", "recipient": {"phone_number": "+14155550123"}, "message": {"text": ""}},
        "VALIDATION_ERROR",
        "message.text",
    ),
    (
        "missing event type",
        {"recipient": {"phone_number": "+14155550123"}, "message": {"text": "x"}},
        "VALIDATION_ERROR",
        "event_type",
    ),
    ("unknown field", {**order_request(), "colour": "red"}, "VALIDATION_ERROR", "colour"),
    ("bad priority", {**order_request(), "priority": "urgent"}, "VALIDATION_ERROR", "priority"),
    (
        "naive scheduled_for",
        {**order_request(), "scheduled_for": "2030-01-01T00:00:00"},
        "VALIDATION_ERROR",
        "scheduled_for",
    ),
    (
        "currency without code",
        {
            **order_request(),
            "template": {
                "name": "t",
                "language": "en",
                "parameters": [{"type": "currency", "value": "9.99"}],
            },
        },
        "INVALID_COMBINATION",
        "template.parameters[0].code",
    ),
    (
        "currency not a number",
        {
            **order_request(),
            "template": {
                "name": "t",
                "language": "en",
                "parameters": [{"type": "currency", "value": "lots", "code": "EUR"}],
            },
        },
        "INVALID_COMBINATION",
        "template.parameters[0].value",
    ),
    (
        "unknown parameter type",
        {
            **order_request(),
            "template": {"name": "t", "language": "en", "parameters": [{"type": "emoji", "value": "x"}]},
        },
        "VALIDATION_ERROR",
        "template.parameters[0].type",
    ),
    (
        "template name with capitals",
        {**order_request(), "template": {"name": "Order", "language": "en"}},
        "VALIDATION_ERROR",
        "template.name",
    ),
    ("metadata not an object", {**order_request(), "metadata": [1, 2]}, "VALIDATION_ERROR", "metadata"),
    (
        "metadata too big",
        {**order_request(), "metadata": {"blob": "x" * 5000}},
        "VALIDATION_ERROR",
        "metadata",
    ),
]


@pytest.mark.parametrize(("case", "body", "code", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_bad_input_is_400_with_code_and_field(
    api: Client, tenant: TenantFixture, case: str, body: dict[str, Any], code: str, field: str | None
) -> None:
    r = await api.post("/v1/notifications", json=body, headers={**tenant.auth, "X-Trace-Id": "trace-abc"})
    # a rule across fields is a 422: the body has the documented shape
    assert r.status_code == (422 if code == "INVALID_COMBINATION" else 400), r.text
    err = error_of(r)
    assert err["code"] == code
    assert err["field"] == field
    assert err["trace_id"] == "trace-abc"
    assert r.headers["x-trace-id"] == "trace-abc"


async def test_schedule_beyond_30_days_is_422(api: Client, tenant: TenantFixture) -> None:
    when = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    r = await api.post("/v1/notifications", json=order_request(scheduled_for=when), headers=tenant.auth)
    assert r.status_code == 422
    assert error_of(r) | {"trace_id": None} == {
        "code": "SCHEDULE_TOO_FAR",
        "message": "scheduled_for may be at most 30 days ahead",
        "field": "scheduled_for",
        "trace_id": None,
    }


@pytest.mark.parametrize("body", [b"{bad json", b"", b"[1,2", b"\xff\xfe", b"null"])
async def test_malformed_json_is_400_never_500(api: Client, tenant: TenantFixture, body: bytes) -> None:
    r = await api.post(
        "/v1/notifications", content=body, headers={**tenant.auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] in {"MALFORMED_JSON", "VALIDATION_ERROR"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_wrong_content_type_is_415(api: Client, tenant: TenantFixture, content_type: str) -> None:
    r = await api.post(
        "/v1/notifications", content=b'{"a":1}', headers={**tenant.auth, "Content-Type": content_type}
    )
    assert r.status_code == 415
    assert error_of(r)["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_json_with_charset_is_fine(api: Client, tenant: TenantFixture) -> None:
    import json

    r = await api.post(
        "/v1/notifications",
        content=json.dumps(order_request()).encode(),
        headers={**tenant.auth, "Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201


async def test_oversized_body_is_413(api: Client, tenant: TenantFixture) -> None:
    r = await api.post(
        "/v1/notifications",
        content=b"x" * (2 * 1024 * 1024),
        headers={**tenant.auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert error_of(r)["code"] == "PAYLOAD_TOO_LARGE"


async def test_unknown_route_and_method_use_the_error_shape(api: Client, tenant: TenantFixture) -> None:
    r = await api.get("/v1/nothing-here", headers=tenant.auth)
    assert r.status_code == 404
    assert error_of(r)["code"] == "NOT_FOUND"
    r = await api.delete("/v1/notifications/bulk", headers=tenant.auth)
    assert r.status_code == 405
    assert error_of(r)["code"] == "METHOD_NOT_ALLOWED"


async def test_trace_id_is_echoed_or_generated(api: Client, tenant: TenantFixture) -> None:
    r = await api.post(
        "/v1/notifications", json=order_request(), headers={**tenant.auth, "X-Trace-Id": "my-trace-1"}
    )
    assert r.headers["x-trace-id"] == "my-trace-1"
    r = await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)
    assert len(r.headers["x-trace-id"]) == 32


# --- bulk ----------------------------------------------------------------------------------


async def test_bulk_accepts_valid_items_and_reports_the_rest(api: Client, tenant: TenantFixture) -> None:
    items = [order_request(f"+1415555{i:04d}") for i in range(5)]
    items[1] = order_request("not-a-phone")
    items[3] = {"event_type": "x", "recipient": {"phone_number": "+14155550000"}}
    r = await api.post(
        "/v1/notifications/bulk", json={"notifications": items, "batch_id": "batch-42"}, headers=tenant.auth
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["batch_id"] == "batch-42"
    assert (body["total"], body["queued"], body["failed"]) == (5, 3, 2)
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "INVALID_PHONE_NUMBER"),
        (3, "INVALID_COMBINATION"),
    ]
    assert body["errors"][0]["field"] == "notifications[1].recipient.phone_number"
    assert [n["index"] for n in body["notifications"]] == [0, 2, 4]
    for item in body["notifications"]:
        got = await api.get(f"/v1/notifications/{item['id']}", headers=tenant.auth)
        assert got.json()["batch_id"] == "batch-42"


async def test_bulk_limits(api: Client, tenant: TenantFixture) -> None:
    r = await api.post(
        "/v1/notifications/bulk", json={"notifications": [order_request()] * 101}, headers=tenant.auth
    )
    assert r.status_code == 400
    assert error_of(r)["field"] == "notifications"
    r = await api.post("/v1/notifications/bulk", json={"notifications": []}, headers=tenant.auth)
    assert r.status_code == 400
    r = await api.post("/v1/notifications/bulk", json={"items": []}, headers=tenant.auth)
    assert r.status_code == 400


async def test_bulk_of_100_is_accepted(api: Client, tenant: TenantFixture) -> None:
    items = [order_request(f"+1415556{i:04d}") for i in range(100)]
    r = await api.post("/v1/notifications/bulk", json={"notifications": items}, headers=tenant.auth)
    assert r.status_code == 202
    assert r.json()["queued"] == 100
    assert r.json()["batch_id"].startswith("batch_")


async def test_bulk_is_idempotent_too(api: Client, tenant: TenantFixture) -> None:
    headers = {**tenant.auth, "X-Idempotency-Key": "bulk-1"}
    body = {"notifications": [order_request(), order_request("+14155550999")]}
    first = await api.post("/v1/notifications/bulk", json=body, headers=headers)
    second = await api.post("/v1/notifications/bulk", json=body, headers=headers)
    assert first.json() == second.json()


# --- health --------------------------------------------------------------------------------


async def test_health_checks_real_dependencies(api: Client) -> None:
    r = await api.get("/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] in {"healthy", "degraded"}
    assert set(body["checks"]) == {"database", "redis", "queue", "whatsapp_api"}
    assert body["checks"]["database"]["status"] == "healthy"
    assert body["checks"]["redis"]["status"] == "healthy"
    assert isinstance(body["checks"]["queue"]["queue_depth"], int)
    assert body["checks"]["whatsapp_api"]["status"] == "healthy"


async def test_health_is_503_when_a_required_dependency_is_down(settings: Any) -> None:
    from wanotify.api.app import create_app
    from wanotify.cli.embedded import free_port
    from wanotify.common.config import load_settings

    broken = load_settings(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "WA_ENCRYPTION_KEY": settings.encryption_key,
        }
    )
    async with AsyncTestClient(create_app(broken)) as client:
        r = await client.get("/health")
    assert r.status_code == 503
    assert r.json()["status"] == "unhealthy"
    assert r.json()["checks"]["redis"]["status"] == "unhealthy"


async def test_metrics_are_exposed(api: Client, tenant: TenantFixture) -> None:
    await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)
    text_ = (await api.get("/metrics")).text
    assert 'wanotify_notifications_accepted_total{priority="normal",recipient_country="US"}' in text_
    assert 'route="/v1/notifications"' in text_
