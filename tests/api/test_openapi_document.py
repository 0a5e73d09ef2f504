"""The served OpenAPI document is a contract: valid, complete, and the same as what the server does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from wanotify.api.app import create_app
from wanotify.common.config import Settings
from wanotify.common.webhooks.event_types import EVENT_TYPES
from wanotify.common.webhooks.payloads import EVENT_BODIES

Client = AsyncTestClient[Any]
WRITE_METHODS = {"post", "put", "patch"}
ERROR_REF = "#/components/schemas/ErrorEnvelope"


@pytest.fixture(scope="module")
async def document(api: Client) -> dict[str, Any]:
    r = await api.get("/schema/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]


def test_the_document_validates(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_write_has_a_request_body_with_an_example(document: dict[str, Any]) -> None:
    writes = [(m, p, op) for m, p, op in operations(document) if m in WRITE_METHODS]
    assert writes
    for method, path, op in writes:
        if "requestBody" not in op:  # only bodiless actions, e.g. resume or sync
            assert path.endswith(
                ("/resume", "/sync", "/rotate-secret", "/enable", "/retry", "/test", "/rotate")
            ), (
                method,
                path,
            )
            continue
        media = op["requestBody"]["content"]["application/json"]
        assert media["schema"], (method, path)
        assert media["examples"]["default"]["value"], (method, path)


def test_every_v1_operation_names_its_scope_and_the_server_enforces_it(
    document: dict[str, Any], settings: Settings
) -> None:
    app = create_app(settings)
    declared = {
        (method, route.path_format): handler.opt["scope"]
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        for method in getattr(handler, "http_methods", ())
        if "scope" in handler.opt
    }
    assert "bearer" in document["components"]["securitySchemes"]
    seen = 0
    for method, path, op in operations(document):
        if not path.startswith("/v1/"):
            continue
        seen += 1
        (requirement,) = op["security"]
        (scope,) = requirement["bearer"]
        assert declared[(method.upper(), path)] == scope, (method, path)
        for status in ("401", "403", "400", "429", "500", "503"):
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (method, path, status)
        assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
    assert seen >= 14


def test_the_error_schema_is_the_shape_the_server_returns(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    envelope = schemas["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    body = schemas[envelope["properties"]["error"]["$ref"].rsplit("/", 1)[-1]]
    assert set(body["properties"]) == {"code", "message", "field", "trace_id"}


def test_constraints_in_the_document_are_the_servers(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    phone = schemas["RecipientIn"]["properties"]["phone_number"]
    assert phone["pattern"] == r"^\+[1-9][0-9]{1,14}$"
    assert re.fullmatch(phone["pattern"].strip("^$"), "+14155550123")
    assert schemas["NotificationIn"]["additionalProperties"] is False
    assert set(schemas["NotificationIn"]["properties"]["priority"]["enum"]) == {"high", "normal", "low"}
    assert schemas["NotificationIn"]["properties"]["event_type"]["maxLength"] == 100
    assert "exactly one of `template`, `message` or `media`" in schemas["NotificationIn"]["description"]


def test_create_links_to_read_and_cancel(document: dict[str, Any]) -> None:
    created = document["paths"]["/v1/notifications"]["post"]["responses"]["201"]
    assert {link["operationId"] for link in created["links"].values()} == {
        "getNotification",
        "cancelNotification",
    }


@pytest.mark.parametrize("page", ["/schema/swagger", "/schema/redoc"])
async def test_the_docs_ui_is_served_with_its_assets_offline(api: Client, page: str) -> None:
    r = await api.get(page)
    assert r.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
    scripts = [s for s in sources if s.endswith((".js", ".css"))]
    assert scripts, r.text
    for source in scripts:
        assert source.startswith("/schema/assets/"), source  # nothing from a CDN
        asset = await api.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000, source


def test_every_client_event_is_documented_under_webhooks(document: dict[str, Any]) -> None:
    assert set(document["webhooks"]) == set(EVENT_TYPES) == set(EVENT_BODIES)
    schemas = document["components"]["schemas"]
    for event_type, item in document["webhooks"].items():
        post = item["post"]
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        assert event_type in body["properties"]["event"].get(
            "enum", [body["properties"]["event"].get("const")]
        )
        assert {"id", "event", "timestamp", "data"} <= set(body["required"])
        headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
        assert {"webhook-id", "webhook-timestamp", "webhook-signature", "X-Webhook-Signature"} <= headers
