"""The template registry: sync from the sandbox (every page), listing, and the checks at ingest."""

from __future__ import annotations

from typing import Any

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import eventually
from tests.support.world import (
    TenantFixture,
    add_sandbox_templates,
    make_tenant,
    meta_template,
    order_request,
    put_registry_templates,
    template,
)
from wanotify.common.config import MetaSettings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.tenant import TenantPolicy
from wanotify.common.meta.client import MetaClient
from wanotify.common.template_sync import TemplateSyncer

Client = AsyncTestClient[Any]


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


async def test_list_shows_the_synced_templates_of_this_tenant_only(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    r = await api.get("/v1/templates", headers=tenant.auth)
    assert r.status_code == 200, r.text
    found = {(t["name"], t["language"], t["status"]) for t in r.json()["templates"]}
    assert found == {("order_confirmation", "en_US", "APPROVED"), ("hello", "en", "APPROVED")}
    one = next(t for t in r.json()["templates"] if t["name"] == "order_confirmation")
    assert one["waba_id"] == tenant.waba_id
    assert one["parameter_format"] == "POSITIONAL"
    assert one["meta_id"]
    assert one["components"] == [
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is confirmed. Total: {{3}}."}
    ]

    other = await make_tenant(engine, box, None)
    await put_registry_templates(engine, other, template("only_theirs", "en", "x"))
    names = {t["name"] for t in (await api.get("/v1/templates", headers=tenant.auth)).json()["templates"]}
    assert "only_theirs" not in names
    filtered = await api.get("/v1/templates", params={"name": "hello"}, headers=tenant.auth)
    assert [t["name"] for t in filtered.json()["templates"]] == ["hello"]


async def test_sync_on_demand_adds_updates_and_removes(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, sandbox_url: str, receiver: str
) -> None:
    await add_sandbox_templates(
        sandbox_url,
        tenant.waba_id,
        template("shipping_update", "en", "Order {{1}} shipped."),
        template("hello", "en", "Hello again.", status="PAUSED"),
    )

    # Meta (the sandbox) tells the receiver of hello's new status; let that land first. The
    # receiver runs on this test's event loop, which the in-process API client blocks while it
    # waits: a sync that met the receiver's open transaction on that row would never finish.
    async def hello() -> str:
        async with UnitOfWork(engine) as uow:
            return (await uow.templates.for_tenant(tenant.tenant_id, name="hello"))[0].status

    await eventually(hello, lambda status: status == "PAUSED", what="the PAUSED webhook applied")
    await put_registry_templates(engine, tenant, template("deleted_at_meta", "en", "bye"))
    r = await api.post("/v1/templates/sync", headers=tenant.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["synced"] == 3
    assert body["wabas"] == [{"waba_id": tenant.waba_id, "templates": 3, "removed": 1, "error": None}]
    listed = {
        (t["name"], t["status"])
        for t in (await api.get("/v1/templates", headers=tenant.auth)).json()["templates"]
    }
    assert listed == {
        ("order_confirmation", "APPROVED"),
        ("hello", "PAUSED"),
        ("shipping_update", "APPROVED"),
    }


async def test_sync_follows_paging_across_several_pages(
    tenant: TenantFixture, engine: AsyncEngine, box: SecretBox, sandbox_url: str
) -> None:
    extra = [template(f"promo_{i:02d}", "en", f"Deal {i}: {{{{1}}}}") for i in range(9)]
    await add_sandbox_templates(sandbox_url, tenant.waba_id, *extra)
    async with httpx.AsyncClient() as http:
        meta = MetaClient(MetaSettings(graph_base_url=sandbox_url), http)
        listed = await meta.list_templates(tenant.waba_id, tenant.access_token, page_size=2)
        assert len(listed) == 11  # 6 pages of 2, the last with 1
        assert len({(t.name, t.language) for t in listed}) == 11
        syncer = TemplateSyncer(lambda: UnitOfWork(engine), meta, box, page_size=3)
        results = await syncer.sync_tenant(tenant.tenant_id)
    assert [(r.templates, r.error) for r in results] == [(11, None)]
    async with UnitOfWork(engine) as uow:
        stored = await uow.templates.for_tenant(tenant.tenant_id)
    assert {t.name for t in stored} >= {f"promo_{i:02d}" for i in range(9)}
    assert len(stored) == 11


async def test_a_failed_listing_changes_nothing(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, sandbox_url: str
) -> None:
    async with httpx.AsyncClient(base_url=sandbox_url) as http:  # rotate the token at "Meta"
        r = await http.post(
            "/_sandbox/phone-numbers",
            json={
                "phone_number_id": tenant.phone_number_id,
                "waba_id": tenant.waba_id,
                "access_token": "EAArotated",
                "display_phone_number": "+15550100002",
            },
        )
        r.raise_for_status()
    r = await api.post("/v1/templates/sync", headers=tenant.auth)
    assert r.status_code == 503
    assert error_of(r)["code"] == "TEMPLATE_SYNC_FAILED"
    assert len((await api.get("/v1/templates", headers=tenant.auth)).json()["templates"]) == 2


async def test_template_scopes(api: Client, engine: AsyncEngine, box: SecretBox) -> None:
    sender_only = await make_tenant(engine, box, None, scopes=("notifications:send",))
    assert (await api.get("/v1/templates", headers=sender_only.auth)).status_code == 403
    assert (await api.post("/v1/templates/sync", headers=sender_only.auth)).status_code == 403
    reader = await make_tenant(engine, box, None, scopes=("templates:read",))
    assert (await api.get("/v1/templates", headers=reader.auth)).status_code == 200
    assert error_of(await api.post("/v1/templates/sync", headers=reader.auth))["code"] == "FORBIDDEN"


# --- checks at ingest ------------------------------------------------------------------------


async def test_unknown_template_is_422_not_found(api: Client, tenant: TenantFixture) -> None:
    body = order_request()
    body["template"]["name"] = "no_such_template"
    r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
    assert r.status_code == 422
    assert error_of(r)["code"] == "TEMPLATE_NOT_FOUND"
    assert error_of(r)["field"] == "template.name"

    body = order_request()
    body["template"]["language"] = "de"
    err = error_of(await api.post("/v1/notifications", json=body, headers=tenant.auth))
    assert (err["code"], err["field"]) == ("TEMPLATE_NOT_FOUND", "template.language")
    assert "en_US" in err["message"]


async def test_a_template_not_approved_is_422(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    for status in ("PENDING", "PAUSED", "REJECTED"):
        await put_registry_templates(
            engine, tenant, template(f"t_{status.lower()}", "en", "Hi {{1}}", status=status)
        )
    for status in ("PENDING", "PAUSED", "REJECTED"):
        r = await api.post(
            "/v1/notifications",
            json={
                "event_type": "x",
                "recipient": {"phone_number": "+14155550123"},
                "template": {
                    "name": f"t_{status.lower()}",
                    "language": "en",
                    "parameters": [{"type": "text", "value": "a"}],
                },
            },
            headers=tenant.auth,
        )
        assert r.status_code == 422
        assert error_of(r)["code"] == "TEMPLATE_NOT_APPROVED"
        assert status in error_of(r)["message"]


async def test_wrong_parameter_count_is_422(api: Client, tenant: TenantFixture) -> None:
    body = order_request()
    body["template"]["parameters"] = body["template"]["parameters"][:2]
    r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
    assert r.status_code == 422
    assert error_of(r)["code"] == "TEMPLATE_PARAMETER_MISMATCH"
    assert error_of(r)["field"] == "template.parameters"
    body["template"]["parameters"] = [{"type": "text", "value": "x", "name": "a"}] * 1
    r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
    assert error_of(r)["code"] == "TEMPLATE_PARAMETER_MISMATCH"


async def test_named_templates_need_exactly_their_names(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    await put_registry_templates(
        engine,
        tenant,
        meta_template(
            "welcome_named",
            "en",
            [{"type": "BODY", "text": "Hi {{first_name}}, order {{order_number}}."}],
            parameter_format="NAMED",
        ),
    )

    def send(params: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "event_type": "x",
            "recipient": {"phone_number": "+14155550123"},
            "template": {"name": "welcome_named", "language": "en", "parameters": params},
        }

    good = [
        {"type": "text", "value": "SKBUP2", "name": "order_number"},
        {"type": "text", "value": "Jessica", "name": "first_name"},
    ]
    assert (await api.post("/v1/notifications", json=send(good), headers=tenant.auth)).status_code == 201
    for bad in (
        [{"type": "text", "value": "Jessica"}, {"type": "text", "value": "SKBUP2"}],
        [good[0], {"type": "text", "value": "J", "name": "last_name"}],
        good[:1],
    ):
        r = await api.post("/v1/notifications", json=send(bad), headers=tenant.auth)
        assert r.status_code == 422, r.text
        assert error_of(r)["code"] == "TEMPLATE_PARAMETER_MISMATCH"


async def test_language_fallback_picks_the_first_approved_locale(
    api: Client, engine: AsyncEngine, box: SecretBox
) -> None:
    tenant = await make_tenant(engine, box, None)
    async with UnitOfWork(engine) as uow:
        await uow.tenants.set_policy(
            tenant.tenant_id, TenantPolicy(language_fallback={"pt_BR": ["pt", "en_US"]})
        )
        await uow.commit()
    await put_registry_templates(
        engine, tenant, template("order_confirmation", "pt", "Olá {{1}} {{2}} {{3}}", status="PAUSED")
    )
    body = order_request()
    body["template"]["language"] = "pt_BR"
    r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
    assert r.status_code == 201, r.text
    doc = (await api.get(f"/v1/notifications/{r.json()['id']}", headers=tenant.auth)).json()
    assert doc["template"] == {"name": "order_confirmation", "language": "en_US"}
    assert doc["message_type"] == "template"
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(r.json()["id"])
    assert n is not None and n.message.language == "en_US"  # type: ignore[union-attr]

    body["template"]["language"] = "es"  # no chain for es
    assert error_of(await api.post("/v1/notifications", json=body, headers=tenant.auth))["code"] == (
        "TEMPLATE_NOT_FOUND"
    )


async def test_bulk_reports_template_errors_per_item(api: Client, tenant: TenantFixture) -> None:
    unknown = order_request()
    unknown["template"]["name"] = "nope"
    short = order_request()
    short["template"]["parameters"] = short["template"]["parameters"][:1]
    items = [order_request(), unknown, {"event_type": "x"}, short, order_request()]
    r = await api.post("/v1/notifications/bulk", json={"notifications": items}, headers=tenant.auth)
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["queued"], body["failed"]) == (2, 3)
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "TEMPLATE_NOT_FOUND"),
        (2, "VALIDATION_ERROR"),
        (3, "TEMPLATE_PARAMETER_MISMATCH"),
    ]
    assert body["errors"][0]["field"] == "notifications[1].template.name"
    assert [n["index"] for n in body["notifications"]] == [0, 4]
