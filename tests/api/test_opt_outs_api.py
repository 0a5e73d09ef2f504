"""Opt-outs: managed through the API, tenant-scoped, and every send to an opted-out recipient refused."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.world import TenantFixture, make_tenant, open_window, order_request
from wanotify.common.crypto import SecretBox

Client = AsyncTestClient[Any]


def error_of(response: Any) -> dict[str, Any]:
    return dict(response.json()["error"])


async def test_add_list_and_remove(api: Client, tenant: TenantFixture) -> None:
    r = await api.post(
        "/v1/opt-outs", json={"phone_number": "+14155550101", "reason": "asked by phone"}, headers=tenant.auth
    )
    assert r.status_code == 201, r.text
    assert r.json() | {"created_at": None} == {
        "phone_number": "+14155550101",
        "source": "api",
        "reason": "asked by phone",
        "created_at": None,
    }
    again = await api.post("/v1/opt-outs", json={"phone_number": "+14155550101"}, headers=tenant.auth)
    assert again.status_code == 200
    assert again.json()["reason"] == "asked by phone"  # the first record stands
    await api.post("/v1/opt-outs", json={"phone_number": "+14155550100"}, headers=tenant.auth)

    listed = (await api.get("/v1/opt-outs", headers=tenant.auth)).json()
    assert [o["phone_number"] for o in listed["opt_outs"]] == ["+14155550100", "+14155550101"]
    assert listed["next_after"] is None
    page = (await api.get("/v1/opt-outs", params={"limit": 1}, headers=tenant.auth)).json()
    assert [o["phone_number"] for o in page["opt_outs"]] == ["+14155550100"]
    rest = (await api.get("/v1/opt-outs", params={"after": page["next_after"]}, headers=tenant.auth)).json()
    assert [o["phone_number"] for o in rest["opt_outs"]] == ["+14155550101"]

    assert (await api.delete("/v1/opt-outs/+14155550101", headers=tenant.auth)).status_code == 204
    assert (await api.delete("/v1/opt-outs/%2B14155550100", headers=tenant.auth)).status_code == 204
    r = await api.delete("/v1/opt-outs/+14155550101", headers=tenant.auth)
    assert r.status_code == 404
    assert error_of(r)["code"] == "NOT_FOUND"
    assert (await api.get("/v1/opt-outs", headers=tenant.auth)).json()["opt_outs"] == []


async def test_bad_input(api: Client, tenant: TenantFixture) -> None:
    r = await api.post("/v1/opt-outs", json={"phone_number": "14155550101"}, headers=tenant.auth)
    assert r.status_code == 400
    assert (error_of(r)["code"], error_of(r)["field"]) == ("INVALID_PHONE_NUMBER", "phone_number")
    r = await api.post(
        "/v1/opt-outs", json={"phone_number": "+14155550101", "colour": 1}, headers=tenant.auth
    )
    assert r.status_code == 400
    r = await api.delete("/v1/opt-outs/not-a-phone", headers=tenant.auth)
    assert (r.status_code, error_of(r)["code"]) == (400, "INVALID_PHONE_NUMBER")
    assert (await api.get("/v1/opt-outs", params={"limit": 0}, headers=tenant.auth)).status_code == 400


async def test_opt_outs_are_per_tenant_and_need_the_scope(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    other = await make_tenant(engine, box, None)
    await api.post("/v1/opt-outs", json={"phone_number": "+14155550102"}, headers=other.auth)
    assert (await api.get("/v1/opt-outs", headers=tenant.auth)).json()["opt_outs"] == []
    assert (await api.delete("/v1/opt-outs/+14155550102", headers=tenant.auth)).status_code == 404
    assert (
        await api.post("/v1/notifications", json=order_request("+14155550102"), headers=tenant.auth)
    ).status_code == 201

    sender_only = await make_tenant(engine, box, None, scopes=("notifications:send",))
    for r in (
        await api.get("/v1/opt-outs", headers=sender_only.auth),
        await api.post("/v1/opt-outs", json={"phone_number": "+14155550102"}, headers=sender_only.auth),
        await api.delete("/v1/opt-outs/+14155550102", headers=sender_only.auth),
    ):
        assert r.status_code == 403


async def test_sends_to_an_opted_out_recipient_are_422(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    phone = "+14155550103"
    await open_window(engine, tenant, phone)  # even inside the window
    await api.post("/v1/opt-outs", json={"phone_number": phone}, headers=tenant.auth)
    text = {"event_type": "x", "recipient": {"phone_number": phone}, "message": {"text": "hi"}}
    for body in (order_request(phone), text):
        r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
        assert r.status_code == 422
        assert error_of(r) | {"trace_id": None} == {
            "code": "RECIPIENT_OPTED_OUT",
            "message": "This recipient opted out of your messages",
            "field": "recipient.phone_number",
            "trace_id": None,
        }
    bulk = {"notifications": [order_request("+14155550104"), order_request(phone), text]}
    r = await api.post("/v1/notifications/bulk", json=bulk, headers=tenant.auth)
    assert r.status_code == 202
    assert (r.json()["queued"], r.json()["failed"]) == (1, 2)
    assert [(e["index"], e["code"], e["field"]) for e in r.json()["errors"]] == [
        (1, "RECIPIENT_OPTED_OUT", "notifications[1].recipient.phone_number"),
        (2, "RECIPIENT_OPTED_OUT", "notifications[2].recipient.phone_number"),
    ]

    await api.delete(f"/v1/opt-outs/{phone}", headers=tenant.auth)
    assert (
        await api.post("/v1/notifications", json=order_request(phone), headers=tenant.auth)
    ).status_code == 201
