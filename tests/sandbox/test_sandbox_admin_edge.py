"""Hostile input to the `/_sandbox` admin routes: always a 4xx naming the field, never a 500.

A refusal is Litestar's error body, `{"status_code", "detail", "extra": [{"message", "key", "source"}]}`,
where `key` names the refused field (`body` when the JSON itself is bad, `Content-Type` for the header).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import httpx
import pytest

from tests.sandbox.harness import PNID, SandboxClient, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="session")

JSON = {"Content-Type": "application/json"}
DEEP = 10_000
HUGE = 2**70
# Phone numbers and templates outlive `/_sandbox/reset`: these tests add and change only their own.
EDGE_WABA = "200000000000901"
EDGE_TEMPLATE = {
    "waba_id": EDGE_WABA,
    "name": "edge_case",
    "language": "en_US",
    "components": [{"type": "BODY", "text": "x"}],
}


class Route(NamedTuple):
    valid: dict[str, Any]
    text: str  # a string field
    number: str  # an integer field (a string field where the route has none: a wrong type)


ROUTES: dict[str, Route] = {
    "/_sandbox/phone-numbers": Route(
        {
            "phone_number_id": "100000000000901",
            "waba_id": EDGE_WABA,
            "access_token": "EAAedge-token",
            "display_phone_number": "+1 555 000 0901",
        },
        "display_phone_number",
        "messaging_limit",
    ),
    "/_sandbox/templates": Route(EDGE_TEMPLATE, "name", "waba_id"),
    "/_sandbox/templates/status": Route(
        {"waba_id": EDGE_WABA, "name": "edge_case", "language": "en_US", "status": "APPROVED"}, "name", "name"
    ),
    "/_sandbox/behaviours": Route({"to": "+15550720001", "duplicates": True}, "to", "to"),
    "/_sandbox/faults": Route({"to": "+15550720002", "code": 131026, "times": 1}, "to", "code"),
    "/_sandbox/inbound": Route(
        {"phone_number_id": PNID, "from": "15550720003", "text": "hi"}, "from", "timestamp"
    ),
    "/_sandbox/verify-webhook": Route({"verify_token": "edge-token"}, "verify_token", "verify_token"),
}


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def with_raw(body: dict[str, Any], field: str, raw: bytes) -> bytes:
    """`body` with `field`'s value replaced by raw JSON bytes (which json.dumps cannot produce)."""
    return encode({**body, field: "@@RAW@@"}).replace(b'"@@RAW@@"', raw)


def bad_bodies(route: Route) -> dict[str, tuple[bytes, tuple[str, ...]]]:
    """Each bad body, with the `key`s an answer may name."""
    field = route.text
    return {
        "nul": (encode({**route.valid, field: "a\u0000b"}), (field,)),
        "control": (encode({**route.valid, field: "a\u001bb"}), (field,)),
        "del": (encode({**route.valid, field: "a\u007fb"}), (field,)),
        "lone high surrogate": (with_raw(route.valid, field, b'"\\ud800"'), (field, "body")),
        "lone low surrogate": (with_raw(route.valid, field, b'"a\\udc00b"'), (field, "body")),
        "invalid utf-8": (with_raw(route.valid, field, b'"\xff\xfe"'), ("body",)),
        "overlong utf-8 nul": (with_raw(route.valid, field, b'"\xc0\x80"'), ("body",)),
        "deep in a field": (with_raw(route.valid, field, b"[" * DEEP + b"]" * DEEP), (field, "body")),
        "deep unknown field": (
            with_raw(route.valid, "zz_deep", b"[" * DEEP + b"]" * DEEP),
            ("zz_deep", "body"),
        ),
        "deep body": (b"[" * DEEP + b"]" * DEEP, ("body",)),
        "huge int": (encode({**route.valid, route.number: HUGE}), (route.number,)),
        "huge negative int": (encode({**route.valid, route.number: -HUGE}), (route.number,)),
        "int64 + 1": (encode({**route.valid, route.number: 2**63}), (route.number,)),
        "thousands of digits": (with_raw(route.valid, route.number, b"9" * 5000), (route.number, "[...]")),
        "float overflow": (with_raw(route.valid, route.number, b"1e400"), (route.number, "[...]")),
        "empty": (b"", ("body",)),
        "whitespace": (b"  \n", ("body",)),
        "not json": (b"{nope", ("body",)),
        "truncated": (encode(route.valid)[:-1], ("body",)),
        "array": (b"[]", ("body",)),
        "string": (b'"x"', ("body",)),
        "null": (b"null", ("body",)),
    }


@pytest.fixture
async def edge(sb: SandboxClient) -> SandboxClient:
    """The default sandbox, reset, with this module's own template (for `/_sandbox/templates/status`)."""
    response = await sb.http.post("/_sandbox/templates", json=EDGE_TEMPLATE)
    assert response.status_code == 201, response.text
    return sb


CASES = [(path, name) for path, route in ROUTES.items() for name in bad_bodies(route)]


def assert_refused(response: httpx.Response, status: int, keys: tuple[str, ...], source: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status_code"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    [item] = body["extra"]
    assert item["message"] == body["detail"]
    assert item["key"] in keys, (item, keys)
    assert item["source"] == source


@pytest.mark.parametrize("path", ROUTES)
async def test_the_valid_bodies_are_accepted(edge: SandboxClient, path: str) -> None:
    response = await edge.http.post(path, json=ROUTES[path].valid)
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize(("path", "case"), CASES)
async def test_bad_body_is_a_4xx_naming_the_field(edge: SandboxClient, path: str, case: str) -> None:
    body, keys = bad_bodies(ROUTES[path])[case]
    response = await edge.http.post(path, content=body, headers=JSON)
    assert_refused(response, 400, keys, "body")


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
async def test_wrong_content_type_is_415(edge: SandboxClient, path: str, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await edge.http.post(path, content=encode(ROUTES[path].valid), headers=headers)
    assert_refused(response, 415, ("Content-Type",), "header")


@pytest.mark.parametrize("path", ROUTES)
async def test_json_content_type_with_parameters_is_accepted(edge: SandboxClient, path: str) -> None:
    headers = {"Content-Type": "Application/JSON; charset=utf-8"}
    response = await edge.http.post(path, content=encode(ROUTES[path].valid), headers=headers)
    assert response.status_code in (200, 201), response.text


async def test_refused_faults_and_behaviours_store_nothing(edge: SandboxClient) -> None:
    for path in ("/_sandbox/faults", "/_sandbox/behaviours"):
        for body, _ in bad_bodies(ROUTES[path]).values():
            assert (await edge.http.post(path, content=body, headers=JSON)).status_code == 400
        assert (await edge.http.get(path)).json() == []


async def test_business_rule_refusals_name_the_field(edge: SandboxClient) -> None:
    cases = [
        (
            "/_sandbox/phone-numbers",
            {**ROUTES["/_sandbox/phone-numbers"].valid, "throughput_mps": 0},
            "throughput_mps",
        ),
        (
            "/_sandbox/phone-numbers",
            {**ROUTES["/_sandbox/phone-numbers"].valid, "messaging_limit": 0},
            "messaging_limit",
        ),
        ("/_sandbox/templates", {"waba_id": EDGE_WABA, "language": "en_US"}, "name"),
        (
            "/_sandbox/templates/status",
            {**ROUTES["/_sandbox/templates/status"].valid, "status": "NOPE"},
            "status",
        ),
        ("/_sandbox/behaviours", {"to": "+15550720001", "delay_seconds": -1}, "delay_seconds"),
        ("/_sandbox/behaviours", {"to": "nope"}, "to"),
        ("/_sandbox/faults", {"to": "+15550720002", "code": 131026, "times": 0}, "times"),
        ("/_sandbox/inbound", {"phone_number_id": PNID, "from": "12", "text": "hi"}, "from"),
        ("/_sandbox/inbound", {"phone_number_id": PNID, "from": "15550720003"}, "text"),
        ("/_sandbox/verify-webhook", {"verify_token": "x", "extra": 1}, "extra"),
    ]
    for path, body, key in cases:
        assert_refused(await edge.http.post(path, json=body), 400, (key,), "body")


async def test_int64_limits_and_free_text_are_stored_intact(edge: SandboxClient) -> None:
    """What is accepted is kept as sent: the 64-bit extremes, and line breaks where text is free."""
    fault = {"to": "+15550720004", "code": 2**63 - 1, "times": 2**63 - 1}
    assert (await edge.http.post("/_sandbox/faults", json=fault)).status_code == 201
    [stored] = (await edge.http.get("/_sandbox/faults")).json()
    assert (stored["code"], stored["times"]) == (2**63 - 1, 2**63 - 1)

    text = "line\nbreak\ttab \U0001f600"
    await edge.inbound("15550720005", text, timestamp=-(2**63))

    def inbound_text() -> str | None:
        for captured in edge.capture.delivered():
            value = captured.json()["entry"][0]["changes"][0]["value"]
            for message in value.get("messages", []):
                if message["from"] == "15550720005":
                    found: str = message["text"]["body"]
                    return found
        return None

    assert await wait_until(inbound_text, what="the inbound webhook") == text


QUERY_ROUTES = {"/_sandbox/messages": ("to", "phone_number_id"), "/_sandbox/webhooks": ("wamid", "kind")}
QUERY_CASES = [(path, name) for path, names in QUERY_ROUTES.items() for name in names]


@pytest.mark.parametrize(("path", "name"), QUERY_CASES)
@pytest.mark.parametrize("value", ["a\x00b", "a\x1bb", "a\nb", "a\x7fb"])
async def test_control_characters_in_query_values_are_400(
    edge: SandboxClient, path: str, name: str, value: str
) -> None:
    assert_refused(await edge.http.get(path, params={name: value}), 400, (name,), "query")


@pytest.mark.parametrize(("path", "name"), QUERY_CASES)
@pytest.mark.parametrize("raw", ["%ff%fe", "%ed%a0%80", "%c0%80", "a%80"])
async def test_invalid_utf8_in_query_values_is_400(
    edge: SandboxClient, path: str, name: str, raw: str
) -> None:
    assert_refused(await edge.http.get(f"{path}?{name}={raw}"), 400, (name,), "query")


@pytest.mark.parametrize("path", QUERY_ROUTES)
async def test_bad_query_parameter_names_are_400(edge: SandboxClient, path: str) -> None:
    assert_refused(await edge.http.get(f"{path}?a%00b=1"), 400, ("a\x00b",), "query")
    assert_refused(await edge.http.get(f"{path}?%ff=1"), 400, ("%ff",), "query")


async def test_a_number_where_a_recipient_belongs_is_400(edge: SandboxClient) -> None:
    response = await edge.http.get("/_sandbox/messages", params={"to": "99999999999999999999999"})
    assert_refused(response, 400, ("to",), "query")


@pytest.mark.parametrize("path", QUERY_ROUTES)
@pytest.mark.parametrize("value", ["abc", "99999999999999999999999", "-1", ""])
async def test_parameters_a_route_does_not_take_are_ignored(
    edge: SandboxClient, path: str, value: str
) -> None:
    """No admin route takes a number in its query: `limit` (of any type) is not one of its parameters."""
    response = await edge.http.get(path, params={"limit": value})
    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize(("path", "name"), QUERY_CASES)
async def test_plain_query_values_still_filter(edge: SandboxClient, path: str, name: str) -> None:
    value = "+1 555 072 0006" if name == "to" else "café ✓"
    response = await edge.http.get(path, params={name: value})
    assert response.status_code == 200, response.text
    assert response.json() == []
