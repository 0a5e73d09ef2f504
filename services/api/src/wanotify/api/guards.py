"""One guard for every route: parameters checked, the API key authenticated once, its scope
checked against the one the route declares (``opt["scope"]``), the tenant's quota taken for sends,
and the body's media type checked, all before Litestar decodes anything.

What it learns goes into the request's scope state (``principal``, ``tenant_id``, ``granted``),
from where the ``principal`` dependency and the access log read it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from wanotify.api.services import ServiceSlot
from wanotify.common.domain.errors import MalformedJson, UnsupportedMediaType
from wanotify.common.domain.notification import Principal
from wanotify.common.edge.text import check_text

PRINCIPAL = "principal"
GRANTED = "granted"


def _check_parameters(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    for name, value in connection.path_params.items():
        if isinstance(value, str):
            check_text(value, name)
    for name, value in connection.query_params.items():
        check_text(name, name)
        check_text(value, name)


def _require_json(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    media_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json", field="Content-Type")


def authorize(slot: ServiceSlot) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        _check_parameters(connection)
        scope: str | None = handler.opt.get("scope")
        if scope is None:
            return
        request = cast(Request[Any, Any, Any], connection)
        gate = slot.get().ingress
        quota: Callable[[bytes], int] | None = handler.opt.get("quota")
        state = connection.scope.setdefault("state", {})
        if quota is not None:
            principal = await gate.principal(request, scope)
            state["tenant_id"] = principal.tenant_id
            # a request is a request: the quota is taken before the body is validated
            state[GRANTED] = await gate.take(request, principal, quota(await request.body()))
        else:
            principal = await gate.authenticate(request, scope)
        state[PRINCIPAL] = principal
        state["tenant_id"] = principal.tenant_id
        if handler.opt.get("body"):
            _require_json(connection)
            if not await request.body():
                raise MalformedJson("A JSON request body is required")

    return guard


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.scope["state"][PRINCIPAL]
    return principal


def granted_quota(request: Request[Any, Any, Any]) -> int:
    granted: int = request.scope["state"].get(GRANTED, 1)
    return granted
