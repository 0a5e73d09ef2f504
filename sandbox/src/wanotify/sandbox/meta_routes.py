"""Meta-compatible routes: the send endpoint and template management (list, create, delete)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from wanotify.sandbox.errors import MetaError, invalid_token
from wanotify.sandbox.responses import access_token, check_version, json_response
from wanotify.sandbox.sending import Sender
from wanotify.sandbox.state import SandboxState
from wanotify.sandbox.template_listing import list_templates
from wanotify.sandbox.template_manage import TemplateManager


def meta_routes(
    sender: Sender, state: SandboxState, templates: TemplateManager | None = None
) -> list[HTTPRouteHandler]:
    def check_waba_token(request: Request[Any, Any, Any], waba_id: str) -> None:
        token = access_token(request)
        if not token or token not in state.tokens_of_waba(waba_id):
            raise invalid_token()

    @post("/{version:str}/{object_id:str}/messages", status_code=200)
    async def send_message(
        request: Request[Any, Any, Any], version: FromPath[str], object_id: FromPath[str]
    ) -> Response[bytes]:
        check_version(version)
        outcome = await sender.send(object_id, access_token(request), await request.body())
        return json_response(outcome.body, outcome.http_status)

    @get("/{version:str}/{object_id:str}/message_templates")
    async def message_templates(
        request: Request[Any, Any, Any], version: FromPath[str], object_id: FromPath[str]
    ) -> Response[bytes]:
        check_version(version)
        check_waba_token(request, object_id)
        query = {key: value for key, value in request.query_params.items()}
        url = request.url
        page_url = f"{url.scheme}://{url.netloc}{url.path}"
        return json_response(list_templates(state.templates_of(object_id), query, page_url))

    @post("/{version:str}/{object_id:str}/message_templates", status_code=200)
    async def create_template(
        request: Request[Any, Any, Any], version: FromPath[str], object_id: FromPath[str]
    ) -> Response[bytes]:
        check_version(version)
        check_waba_token(request, object_id)
        if templates is None:
            raise MetaError(3, "Template management is not enabled.")
        return json_response(templates.create(object_id, await request.body()))

    @delete("/{version:str}/{object_id:str}/message_templates", status_code=200)
    async def delete_template(
        request: Request[Any, Any, Any], version: FromPath[str], object_id: FromPath[str]
    ) -> Response[bytes]:
        check_version(version)
        check_waba_token(request, object_id)
        if templates is None:
            raise MetaError(3, "Template management is not enabled.")
        return json_response(templates.delete(object_id, dict(request.query_params.items())))

    return [send_message, message_templates, create_template, delete_template]
