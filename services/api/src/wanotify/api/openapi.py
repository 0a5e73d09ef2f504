"""The OpenAPI document as a contract: each operation's scope, body and every status it answers.

Handlers declare themselves with :func:`operation` (scope, body, statuses beyond the common
ones). :func:`finish_document` adds what Litestar cannot express per handler: the headers every
response carries, request-body examples and the bearer scheme. The docs UIs (Swagger UI, ReDoc)
are served from the installed ``openapi-ui-bundles`` package, so they work offline.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import openapi_ui_bundles.redoc
import openapi_ui_bundles.swagger_ui
from litestar import Litestar, Request
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.router import Router
from litestar.static_files import create_static_files_router

from wanotify.api.errors import ErrorEnvelope
from wanotify.api.json_value import json_value_schemas
from wanotify.api.webhooks.documentation import webhooks_section

SCHEMA_PATH = "/schema"
ASSETS_PATH = "/schema/assets"
BEARER = "bearer"

STATUS_TEXT: dict[int, str] = {
    400: "The request is invalid: `error.field` names the offending field or parameter",
    401: "No API key, or an invalid, expired or revoked one",
    403: "The API key lacks the scope this operation needs",
    404: "No such object for this tenant (another tenant's object is a 404 too)",
    408: "The request body did not arrive in time (`HTTP_BODY_TIMEOUT_SECONDS`)",
    409: "Conflicts with the object's state or with an earlier use of the idempotency key",
    413: "The request body is larger than `API_MAX_BODY_BYTES`",
    415: "The request body is not `application/json`",
    422: "Well-formed but refused by a rule (opt-out, template, window, no sender, schedule)",
    429: "Over the tenant's or the service's rate limit; see `Retry-After`",
    500: "An unexpected error; the trace id finds it in the logs and traces",
    503: "A dependency (database, Redis, queue, Meta) is unavailable; retry later",
}
COMMON = (400, 401, 403, 429, 500, 503)
HEALTH_RESPONSES = {
    503: ResponseSpec(
        data_container=dict[str, Any],
        description="Not ready: a required dependency is down (the body says which)",
        generate_examples=False,
    )
}
WITH_BODY = (408, 413, 415)


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ErrorEnvelope, description=STATUS_TEXT[status], generate_examples=False
        )
        for status in sorted(statuses)
    }


def summary_of(operation_id: str) -> str:
    """``createNotificationBatch`` → ``Create notification batch`` (the docs UI's one-line title)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", operation_id).capitalize()


def operation(
    operation_id: str,
    scope: str,
    *,
    body: bool = False,
    errors: tuple[int, ...] = (),
    quota: Callable[[bytes], int] | None = None,
    success: tuple[tuple[int, type[Any], str], ...] = (),
) -> dict[str, Any]:
    """A ``/v1`` operation's decorator arguments: the scope it needs (checked by the guard), whether
    it takes a JSON body, the statuses it answers beyond :data:`COMMON`, and, for sends, what a
    request takes from the tenant's quota."""
    responses = error_responses(*COMMON, *(WITH_BODY if body else ()), *errors)
    for status, model, description in success:
        responses[status] = ResponseSpec(
            data_container=model, description=description, generate_examples=False
        )
    return {
        "operation_id": operation_id,
        "summary": summary_of(operation_id),
        "opt": {"scope": scope, "quota": quota, "body": body},
        "security": [{BEARER: [scope]}],
        "responses": responses,
    }


_TRACE_HEADER = {
    "description": "The request's trace id: the client's sane `X-Trace-Id`, else ours (find it in Jaeger)",
    "schema": {"type": "string"},
}
_RATE_HEADERS = {
    "X-RateLimit-Limit": ("Notifications (or requests) allowed in the tightest window", {"type": "integer"}),
    "X-RateLimit-Remaining": ("What is left of it", {"type": "integer"}),
    "X-RateLimit-Reset": ("When it refills (UTC)", {"type": "string", "format": "date-time"}),
}
_TRACE_PARAMETER = {
    "name": "X-Trace-Id",
    "in": "header",
    "required": False,
    "description": "Your trace id (1 to 128 of `A-Za-z0-9._:-`; anything else is replaced by ours)",
    "schema": {"type": "string"},
}


def _link(operation_id: str, parameter: str, pointer: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": {parameter: f"$response.body#{pointer}"}}


# Stateful testing and generated clients follow these from a response to the next call.
LINKS: dict[tuple[str, str], dict[str, Any]] = {
    ("createNotification", "201"): {
        "GetNotification": _link("getNotification", "notification_id", "/id"),
        "CancelNotification": _link("cancelNotification", "notification_id", "/id"),
    },
    ("addOptOut", "201"): {"RemoveOptOut": _link("removeOptOut", "phone_number", "/phone_number")},
    ("listSenders", "200"): {
        "ResumeSender": _link("resumeSender", "sender_id", "/senders/0/id"),
        "UpdateSenderTiers": _link("updateSenderTiers", "sender_id", "/senders/0/id"),
    },
}


def _headers_for(path: str, status: str) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Trace-Id": {"$ref": "#/components/headers/X-Trace-Id"}}
    if path.startswith("/v1/"):
        for name in _RATE_HEADERS:
            headers[name] = {"$ref": f"#/components/headers/{name}"}
    if status == "429":
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    if status == "401":
        headers["WWW-Authenticate"] = {"description": "`Bearer`", "schema": {"type": "string"}}
    return headers


def request_components(models: tuple[type[Any], ...]) -> dict[str, Any]:
    """The request bodies' schemas as msgspec itself validates them (constraints on list items,
    ``additionalProperties: false``, enums) and the free-form JSON they hold."""
    _, components = msgspec.json.schema_components(models, ref_template="#/components/schemas/{name}")
    components.update(json_value_schemas())
    return components


def finish_document(
    doc: Mapping[str, Any], examples: Mapping[str, Any], requests: Mapping[str, Any]
) -> dict[str, Any]:
    """Litestar's document plus headers, links, request examples (by operationId), the request
    bodies' schemas from :func:`request_components`, and the client events under ``webhooks``."""
    out = copy.deepcopy(dict(doc))
    webhooks, event_schemas = webhooks_section()
    out["webhooks"] = webhooks
    out.setdefault("components", {}).setdefault("schemas", {}).update(event_schemas)
    components = out.setdefault("components", {})
    components["headers"] = {
        "X-Trace-Id": _TRACE_HEADER,
        "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
        **{name: {"description": text, "schema": schema} for name, (text, schema) in _RATE_HEADERS.items()},
    }
    components.setdefault("schemas", {}).update(copy.deepcopy(dict(requests)))
    for path, item in out.get("paths", {}).items():
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            if path.startswith("/v1/"):
                op.setdefault("parameters", []).append(_TRACE_PARAMETER)
            for status, response in op["responses"].items():
                response.setdefault("headers", {}).update(_headers_for(path, status))
                links = LINKS.get((op.get("operationId", ""), status))
                if links:
                    response["links"] = links
            example = examples.get(op.get("operationId", ""))
            if example is not None and "requestBody" in op:
                for media in op["requestBody"].get("content", {}).values():
                    media["examples"] = {"default": {"summary": "A typical request", "value": example}}
    return out


class FinishedJson(JsonRenderPlugin):
    """``/schema/openapi.json``: the finished document, built once per app."""

    def __init__(self, examples: Mapping[str, Any], requests: Mapping[str, Any]) -> None:
        super().__init__()
        self._examples = examples
        self._requests = requests
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = msgspec.json.encode(self.document(openapi_schema))
        return self._rendered

    def document(self, openapi_schema: dict[str, Any]) -> dict[str, Any]:
        return finish_document(openapi_schema, self._examples, self._requests)


def openapi_config(version: str, examples: Mapping[str, Any], models: tuple[type[Any], ...]) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="wa-notify",
        version=version,
        description=(
            "Transactional WhatsApp notifications over Meta's Cloud API. Every `/v1` operation takes "
            "`Authorization: Bearer <API key>`; the key's scopes are listed on each operation. "
            'Errors are always `{"error": {code, message, field, trace_id}}`.'
        ),
        path=SCHEMA_PATH,
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="wa-notify API key",
                    description="A key from `wa-notify keys create`; each operation names the scope it needs",
                )
            }
        ),
        tags=[
            Tag(name="notifications", description="Send notifications and follow their status"),
            Tag(name="templates", description="The tenant's approved WhatsApp templates"),
            Tag(name="opt-outs", description="Recipients who asked not to be messaged"),
            Tag(name="senders", description="The tenant's WhatsApp numbers and their pause state"),
            Tag(name="dead letters", description="Failed notifications, listable and replayable"),
            Tag(name="webhooks", description="The tenant's webhook endpoints and their delivery log"),
            Tag(name="client webhooks", description="The events wa-notify POSTs to the tenant's endpoints"),
            Tag(name="operations", description="Health of the service"),
        ],
        render_plugins=[
            FinishedJson(examples, request_components(models)),
            SwaggerRenderPlugin(
                path="/swagger",
                js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                css_url=f"{ASSETS_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
            ),
            RedocRenderPlugin(
                path="/redoc", js_url=f"{ASSETS_PATH}/redoc.standalone.js", google_fonts=False, favicon=""
            ),
        ],
    )


def docs_assets() -> Router:
    """The Swagger UI and ReDoc bundles, from the installed package (no CDN)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[openapi_ui_bundles.swagger_ui.static_path, openapi_ui_bundles.redoc.static_path],
        include_in_schema=False,
        opt={"public": True},
    )


def served_document(app: Litestar) -> dict[str, Any]:
    """The document ``/schema/openapi.json`` serves, without serving it (the CLI prints it)."""
    config = app.openapi_config
    assert config is not None
    plugin = next(p for p in config.render_plugins if isinstance(p, FinishedJson))
    return plugin.document(app.openapi_schema.to_schema())
