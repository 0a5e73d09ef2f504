"""``/v1/api-keys``: create (once-shown plaintext, validated scopes, no escalation), list with pages,
read, revoke (401 ``API_KEY_REVOKED`` at once here, and in another API process once its cache
lapses), rotate with a grace time, expired keys (401 ``API_KEY_EXPIRED``), last use, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import eventually
from tests.support.world import TenantFixture, make_tenant
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.schema import api_keys
from wanotify.common.domain.scopes import SCOPES

Client = AsyncTestClient[Any]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _create(api: Client, tenant: TenantFixture, **body: Any) -> dict[str, Any]:
    r = await api.post(
        "/v1/api-keys", json={"name": "ci", "scopes": ["notifications:read"], **body}, headers=tenant.auth
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_a_created_key_works_with_its_scopes_and_is_shown_once(
    api: Client, tenant: TenantFixture
) -> None:
    created = await _create(api, tenant, name="reporting", scopes=["notifications:read", "templates:read"])
    key, view = created["key"], created["api_key"]
    assert key.startswith("wan_") and view["prefix"] == key[:12]
    assert view["name"] == "reporting"
    assert view["scopes"] == ["notifications:read", "templates:read"]
    assert view["state"] == "active" and view["expires_at"] is None and view["revoked_at"] is None

    assert (await api.get("/v1/notifications", headers=bearer(key))).status_code == 200
    denied = await api.post("/v1/notifications", json={}, headers=bearer(key))
    assert denied.status_code == 403

    listed = await api.get(f"/v1/api-keys/{view['id']}", headers=tenant.auth)
    assert listed.status_code == 200
    assert key not in listed.text and "key_hash" not in listed.text
    assert listed.json()["prefix"] == view["prefix"]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"scopes": ["notifications:reed"]}, 422, "UNKNOWN_SCOPE", "scopes[0]"),
        ({"scopes": ["notifications:read", "notifications:read"]}, 422, "DUPLICATE_SCOPE", "scopes[1]"),
        ({"scopes": []}, 400, "VALIDATION_ERROR", "scopes"),
        ({"name": ""}, 400, "VALIDATION_ERROR", "name"),
        ({"name": "x" * 101}, 400, "VALIDATION_ERROR", "name"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, 422, "EXPIRY_IN_PAST", "expires_at"),
        ({"expires_at": "tomorrow"}, 400, "VALIDATION_ERROR", "expires_at"),
        ({"owner": "me"}, 400, "VALIDATION_ERROR", "owner"),
    ],
)
async def test_bad_key_requests_name_the_field(
    api: Client, tenant: TenantFixture, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    r = await api.post(
        "/v1/api-keys", json={"name": "ci", "scopes": ["notifications:read"], **body}, headers=tenant.auth
    )
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["trace_id"]


async def test_a_key_cannot_grant_scopes_its_creator_lacks(
    api: Client, engine: AsyncEngine, box: SecretBox
) -> None:
    manager = await make_tenant(engine, box, None, scopes=("keys:manage", "notifications:read"))
    ok = await api.post(
        "/v1/api-keys", json={"name": "r", "scopes": ["notifications:read"]}, headers=manager.auth
    )
    assert ok.status_code == 201
    r = await api.post(
        "/v1/api-keys", json={"name": "w", "scopes": ["notifications:send"]}, headers=manager.auth
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "SCOPE_NOT_HELD"
    without = await make_tenant(engine, box, None, scopes=("notifications:read",))
    assert (await api.get("/v1/api-keys", headers=without.auth)).status_code == 403


async def test_the_published_scopes_are_the_ones_routes_check(api: Client) -> None:
    document = (await api.get("/schema/openapi.json")).json()
    used = {
        scope
        for path in document["paths"].values()
        for op in path.values()
        if isinstance(op, dict)
        for requirement in op.get("security", [])
        for scopes in requirement.values()
        for scope in scopes
    }
    assert used == set(SCOPES)


async def test_keys_are_listed_newest_first_in_pages(
    api: Client, engine: AsyncEngine, box: SecretBox
) -> None:
    owner = await make_tenant(engine, box, None)
    made = [(await _create(api, owner, name=f"k{i}"))["api_key"]["id"] for i in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/api-keys", params=params, headers=owner.auth)).json()
        assert len(page["api_keys"]) <= 2
        seen += [k["id"] for k in page["api_keys"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:5] == list(reversed(made))
    assert len(seen) == 6  # and the tenant's first key
    bad = await api.get("/v1/api-keys", params={"cursor": "nope"}, headers=owner.auth)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


async def test_another_tenants_key_is_a_404(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    other = await make_tenant(engine, box, None)
    theirs = (await _create(api, other))["api_key"]["id"]
    for method, path in (
        ("GET", f"/v1/api-keys/{theirs}"),
        ("DELETE", f"/v1/api-keys/{theirs}"),
        ("POST", f"/v1/api-keys/{theirs}/rotate"),
    ):
        r = await api.request(method, path, headers=tenant.auth)
        assert r.status_code == 404, (method, r.text)
        assert r.json()["error"]["code"] == "NOT_FOUND"
    assert theirs not in (await api.get("/v1/api-keys", params={"limit": 100}, headers=tenant.auth)).text


async def test_a_revoked_key_is_refused_at_once_with_its_code(api: Client, tenant: TenantFixture) -> None:
    created = await _create(api, tenant)
    key, key_id = created["key"], created["api_key"]["id"]
    assert (await api.get("/v1/notifications", headers=bearer(key))).status_code == 200  # now cached

    revoked = await api.delete(f"/v1/api-keys/{key_id}", headers=tenant.auth)
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked" and revoked.json()["revoked_at"]
    r = await api.get("/v1/notifications", headers=bearer(key))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "API_KEY_REVOKED"
    again = await api.delete(f"/v1/api-keys/{key_id}", headers=tenant.auth)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


async def test_a_revocation_reaches_another_api_process_when_its_cache_lapses(
    api: Client, tenant: TenantFixture, settings: Settings
) -> None:
    from wanotify.api.app import create_app

    created = await _create(api, tenant)
    key, key_id = created["key"], created["api_key"]["id"]
    elsewhere = msgspec.structs.replace(settings, api_key_cache_seconds=1.0)
    async with AsyncTestClient(create_app(elsewhere)) as other:
        assert (await other.get("/v1/notifications", headers=bearer(key))).status_code == 200  # cached there
        assert (await api.delete(f"/v1/api-keys/{key_id}", headers=tenant.auth)).status_code == 200
        refused = await eventually(
            lambda: other.get("/v1/notifications", headers=bearer(key)),
            lambda r: r.status_code == 401,
            timeout=30,
            what="the other process to refuse the revoked key",
        )
    assert refused.json()["error"]["code"] == "API_KEY_REVOKED"


async def test_an_expired_key_is_refused_with_its_code(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    created = await _create(api, tenant, expires_at=soon.isoformat())
    key, key_id = created["key"], created["api_key"]["id"]
    assert created["api_key"]["expires_at"] is not None
    assert (await api.get("/v1/notifications", headers=bearer(key))).status_code == 200
    async with engine.begin() as conn:  # the hour passes
        await conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    refused = await eventually(
        lambda: api.get("/v1/notifications", headers=bearer(key)),
        lambda r: r.status_code == 401,
        timeout=30,
        what="the expired key to be refused",
    )
    assert refused.json()["error"]["code"] == "API_KEY_EXPIRED"
    assert (await api.get(f"/v1/api-keys/{key_id}", headers=tenant.auth)).json()["state"] == "expired"
    unknown = await api.get("/v1/notifications", headers=bearer("wan_" + "x" * 43))
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "UNAUTHORIZED"


async def test_rotation_gives_a_successor_and_the_old_key_works_through_the_grace(
    api: Client, tenant: TenantFixture
) -> None:
    created = await _create(api, tenant, name="deploy", scopes=["notifications:read", "templates:read"])
    old_key, old_id = created["key"], created["api_key"]["id"]
    r = await api.post(f"/v1/api-keys/{old_id}/rotate", params={"grace_seconds": 3600}, headers=tenant.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    new_key, new, previous = body["key"], body["api_key"], body["previous"]
    assert new_key != old_key
    assert (new["name"], new["scopes"], new["state"]) == (
        "deploy",
        ["notifications:read", "templates:read"],
        "active",
    )
    assert previous["state"] == "expiring" and previous["replaced_by"] == new["id"]
    left = datetime.fromisoformat(previous["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=50) < left <= timedelta(hours=1)
    for key in (old_key, new_key):
        assert (await api.get("/v1/notifications", headers=bearer(key))).status_code == 200

    twice = await api.post(f"/v1/api-keys/{old_id}/rotate", headers=tenant.auth)
    assert twice.status_code == 422 and twice.json()["error"]["code"] == "KEY_NOT_ROTATABLE"

    default = await api.post(f"/v1/api-keys/{new['id']}/rotate", headers=tenant.auth)
    left = datetime.fromisoformat(default.json()["previous"]["expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23) < left <= timedelta(hours=24)

    now_ = await api.post(
        f"/v1/api-keys/{default.json()['api_key']['id']}/rotate",
        params={"grace_seconds": 0},
        headers=tenant.auth,
    )
    gone = now_.json()["previous"]
    assert gone["state"] == "expired"
    r = await api.get("/v1/notifications", headers=bearer(default.json()["key"]))
    assert r.status_code == 401 and r.json()["error"]["code"] == "API_KEY_EXPIRED"


@pytest.mark.parametrize("grace", ["-1", "604801", "soon"])
async def test_a_bad_grace_time_is_a_400(api: Client, tenant: TenantFixture, grace: str) -> None:
    key_id = (await _create(api, tenant))["api_key"]["id"]
    r = await api.post(f"/v1/api-keys/{key_id}/rotate", params={"grace_seconds": grace}, headers=tenant.auth)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "grace_seconds"


async def test_a_revoked_key_cannot_be_rotated(api: Client, tenant: TenantFixture) -> None:
    key_id = (await _create(api, tenant))["api_key"]["id"]
    await api.delete(f"/v1/api-keys/{key_id}", headers=tenant.auth)
    r = await api.post(f"/v1/api-keys/{key_id}/rotate", headers=tenant.auth)
    assert r.status_code == 422 and r.json()["error"]["code"] == "KEY_NOT_ROTATABLE"


async def test_last_use_is_recorded_at_most_once_a_minute(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    created = await _create(api, tenant)
    key, key_id = created["key"], created["api_key"]["id"]
    assert created["api_key"]["last_used_at"] is None
    await api.get("/v1/notifications", headers=bearer(key))
    first = (await api.get(f"/v1/api-keys/{key_id}", headers=tenant.auth)).json()["last_used_at"]
    assert first is not None
    for _ in range(3):
        await api.get("/v1/notifications", headers=bearer(key))
    assert (await api.get(f"/v1/api-keys/{key_id}", headers=tenant.auth)).json()["last_used_at"] == first
