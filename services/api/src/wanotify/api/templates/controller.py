"""``GET /v1/templates`` (scope ``templates:read``) and ``POST /v1/templates/sync`` (``templates:manage``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import QueryParameter

from wanotify.api.state import AppState
from wanotify.api.templates.schemas import SyncResult, TemplateList


class TemplateController(Controller):
    path = "/v1/templates"
    tags = ["templates"]

    @get("/")
    async def list_templates(
        self,
        request: Request[Any, Any, Any],
        state: AppState,
        name: Annotated[str | None, QueryParameter(max_length=512)] = None,
        language: Annotated[str | None, QueryParameter(max_length=16)] = None,
        status: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> TemplateList:
        principal = await state.authenticate(request, "templates:read")
        return await state.templates.list(principal.tenant_id, name=name, language=language, status=status)

    @post("/sync", status_code=200)
    async def sync(self, request: Request[Any, Any, Any], state: AppState) -> SyncResult:
        """Fetch every template of the tenant's WABAs from Meta (all pages) into the registry."""
        principal = await state.authenticate(request, "templates:manage")
        return await state.templates.sync(principal.tenant_id)
