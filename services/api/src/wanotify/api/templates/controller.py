"""``GET /v1/templates`` (scope ``templates:read``) and ``POST /v1/templates/sync`` (``templates:manage``)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from wanotify.api.openapi import operation
from wanotify.api.templates.schemas import SyncResult, TemplateList
from wanotify.api.templates.service import TemplateService
from wanotify.common.domain.notification import Principal

NAME_PATTERN = r"^[a-z0-9_]+$"
LOCALE_PATTERN = r"^[a-z]{2,3}(_[A-Z]{2})?$"


class TemplateController(Controller):
    path = "/v1/templates"
    tags = ["templates"]

    @get("/", **operation("listTemplates", "templates:read"))
    async def list_templates(
        self,
        principal: NamedDependency[Principal],
        templates: NamedDependency[TemplateService],
        name: Annotated[str | None, QueryParameter(max_length=512, pattern=NAME_PATTERN)] = None,
        language: Annotated[str | None, QueryParameter(max_length=16, pattern=LOCALE_PATTERN)] = None,
        status: Annotated[
            str | None, QueryParameter(max_length=32, pattern=r"^[A-Za-z_]+$", description="e.g. APPROVED")
        ] = None,
    ) -> TemplateList:
        """The tenant's templates as last synced from Meta."""
        return await templates.list(principal.tenant_id, name=name, language=language, status=status)

    @post("/sync", status_code=200, **operation("syncTemplates", "templates:manage", errors=(422,)))
    async def sync(
        self, principal: NamedDependency[Principal], templates: NamedDependency[TemplateService]
    ) -> SyncResult:
        """Fetch every template of the tenant's WABAs from Meta (all pages) into the registry."""
        return await templates.sync(principal.tenant_id)
