"""Hostile input at the API's edge: each class of bad input gets a 4xx in the error shape with the
field named (or is stored intact), never a 500. The same app, PostgreSQL and Redis as production."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_notifications_api import error_of
from tests.support.world import TenantFixture, order_request
from wanotify.common.db.schema import notifications

Client = AsyncTestClient[Any]
JSON = {"Content-Type": "application/json"}


def with_field(path: str, value: Any) -> dict[str, Any]:
    """An order request with the value at a dotted ``path`` replaced."""
    doc = order_request()
    *parents, last = path.split(".")
    node = doc
    for name in parents:
        node = node[name]
    node[last] = value
    return doc


async def refused(api: Client, tenant: TenantFixture, raw: bytes, status: int = 400) -> dict[str, Any]:
    r = await api.post("/v1/notifications", content=raw, headers={**tenant.auth, **JSON})
    assert r.status_code == status, r.text
    return error_of(r)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("event_type", "order\u0000placed"),
        ("metadata.order_id", "ORD\u00001"),
        ("template.parameters", [{"type": "text", "value": "An\u0000a"}]),
        ("metadata.note", "bell \u0007"),
    ],
)
async def test_control_characters_in_body_strings_name_the_field(
    api: Client, tenant: TenantFixture, path: str, value: Any
) -> None:
    r = await api.post("/v1/notifications", json=with_field(path, value), headers=tenant.auth)
    assert r.status_code == 400, r.text
    assert error_of(r)["field"].startswith(path.split(".")[0])


async def test_a_lone_surrogate_is_refused(api: Client, tenant: TenantFixture) -> None:
    raw = b'{"event_type": "a\\ud800", "recipient": {"phone_number": "+14155550123"}}'
    error = await refused(api, tenant, raw)
    assert error["code"] in {"VALIDATION_ERROR", "MALFORMED_JSON"}


async def test_invalid_utf8_is_a_400(api: Client, tenant: TenantFixture) -> None:
    raw = b'{"event_type": "caf\xc3\x28", "recipient": {"phone_number": "+14155550123"}}'
    assert (await refused(api, tenant, raw))["code"] == "MALFORMED_JSON"


async def test_deep_nesting_is_a_400(api: Client, tenant: TenantFixture) -> None:
    deep = b'{"metadata": {"x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}}"
    await refused(api, tenant, deep)
    # Below the parser's limit but above the storable cap of 16 levels, with the field named.
    nested: Any = "leaf"
    for _ in range(30):
        nested = {"k": nested}
    r = await api.post("/v1/notifications", json=with_field("metadata.deep", nested), headers=tenant.auth)
    assert r.status_code == 400, r.text
    assert error_of(r)["field"].startswith("metadata")


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00", "1999-12-31T23:59:59Z"]
)
async def test_times_postgresql_or_the_model_cannot_hold_are_refused(
    api: Client, tenant: TenantFixture, when: str
) -> None:
    r = await api.post(
        "/v1/notifications", json={**order_request(), "scheduled_for": when}, headers=tenant.auth
    )
    assert r.status_code == 400, r.text
    assert error_of(r)["field"] == "scheduled_for"


async def test_a_year_of_five_digits_is_refused(api: Client, tenant: TenantFixture) -> None:
    r = await api.post(
        "/v1/notifications",
        json={**order_request(), "expires_at": "10000-01-01T00:00:00Z"},
        headers=tenant.auth,
    )
    assert r.status_code == 400, r.text
    assert error_of(r)["field"] == "expires_at"


@pytest.mark.parametrize(
    ("path", "value"),
    [("event_type", "e" * 101), ("template.name", "t" * 513), ("metadata.big", 2**64)],
)
async def test_values_beyond_their_column_are_refused_at_the_edge(
    api: Client, tenant: TenantFixture, path: str, value: Any
) -> None:
    r = await api.post("/v1/notifications", json=with_field(path, value), headers=tenant.auth)
    assert r.status_code == 400, r.text
    assert error_of(r)["field"].startswith(path.split(".")[0])


@pytest.mark.parametrize(
    "phone",
    ["+14155550123\n", "+141555501234567\n", "+١٤١٥٥٥٥٠١٢٣", " +14155550123", "+1415555012345678"],
)
async def test_phone_numbers_match_in_full_or_are_refused(
    api: Client, tenant: TenantFixture, phone: str
) -> None:
    r = await api.post("/v1/notifications", json=order_request(phone), headers=tenant.auth)
    assert r.status_code == 400, r.text
    error = error_of(r)
    assert (error["code"], error["field"]) == ("INVALID_PHONE_NUMBER", "recipient.phone_number")
    r = await api.post("/v1/opt-outs", json={"phone_number": phone}, headers=tenant.auth)
    assert error_of(r)["code"] == "INVALID_PHONE_NUMBER"


async def test_an_opted_out_number_with_a_trailing_newline_is_not_a_new_recipient(
    api: Client, tenant: TenantFixture
) -> None:
    assert (
        await api.post("/v1/opt-outs", json={"phone_number": "+14155550177"}, headers=tenant.auth)
    ).is_success
    r = await api.post("/v1/notifications", json=order_request("+14155550177\n"), headers=tenant.auth)
    assert r.status_code == 400
    r = await api.post("/v1/notifications", json=order_request("+14155550177"), headers=tenant.auth)
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] == "RECIPIENT_OPTED_OUT"


async def test_unicode_that_is_allowed_is_stored_intact(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    note = "Olá 👋 — 注文 ✓\ttab\nnew line"
    r = await api.post("/v1/notifications", json=with_field("metadata.note", note), headers=tenant.auth)
    assert r.status_code == 201, r.text
    async with engine.connect() as conn:
        stored = await conn.scalar(
            select(notifications.c.metadata).where(notifications.c.id == r.json()["id"])
        )
    assert stored["note"] == note


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/v1/opt-outs", {"after": "+1415\u00005550123"}),
        ("GET", "/v1/dead-letters", {"cursor": "abc\u0000"}),
        ("GET", "/v1/dead-letters", {"since": "0001-01-01T00:00:00Z"}),
        ("GET", "/v1/dead-letters", {"limit": str(2**70)}),
        ("GET", "/v1/notifications/notif_%00x", None),
        ("DELETE", "/v1/opt-outs/%2B14155550123%0A", None),
    ],
)
async def test_bad_parameters_are_400_or_404_with_the_shape(
    api: Client, tenant: TenantFixture, method: str, path: str, params: dict[str, str] | None
) -> None:
    r = await api.request(method, path, params=params, headers=tenant.auth)
    assert r.status_code in {400, 404}, r.text
    error = error_of(r)
    if r.status_code == 400:
        assert error["field"], error


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
async def test_a_wrong_content_type_is_415(api: Client, tenant: TenantFixture, content_type: str) -> None:
    r = await api.post(
        "/v1/opt-outs",
        content=b'{"phone_number": "+14155550123"}',
        headers={**tenant.auth, "Content-Type": content_type},
    )
    assert r.status_code == 415, r.text
    assert error_of(r)["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("path", ["/v1/notifications", "/v1/opt-outs", "/v1/dead-letters/replay"])
async def test_an_empty_body_is_a_400(api: Client, tenant: TenantFixture, path: str) -> None:
    r = await api.post(path, content=b"", headers={**tenant.auth, **JSON})
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] in {"MALFORMED_JSON", "VALIDATION_ERROR"}


async def test_a_body_over_the_limit_is_a_413(api: Client, tenant: TenantFixture) -> None:
    raw = b'{"event_type": "' + b"x" * 2_000_000 + b'"}'
    assert (await refused(api, tenant, raw, status=413))["code"] == "PAYLOAD_TOO_LARGE"


async def test_options_lists_every_method_of_the_path(api: Client, tenant: TenantFixture) -> None:
    r = await api.options("/v1/notifications/notif_x", headers=tenant.auth)
    assert r.status_code == 204
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "DELETE", "OPTIONS"}


async def test_a_wrong_method_is_405_with_allow(api: Client, tenant: TenantFixture) -> None:
    r = await api.put("/v1/notifications/notif_x", json={}, headers=tenant.auth)
    assert r.status_code == 405, r.text
    assert error_of(r)["code"] == "METHOD_NOT_ALLOWED"
    assert {"GET", "DELETE"} <= set(r.headers["allow"].replace(" ", "").split(","))
