"""Meta-compatible routes: the send endpoint and the template list."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from wanotify.sandbox.errors import invalid_token
from wanotify.sandbox.responses import access_token, check_version, json_response
from wanotify.sandbox.sending import Sender
from wanotify.sandbox.state import SandboxState
from wanotify.sandbox.template_listing import list_templates


def meta_routes(sender: Sender, state: SandboxState) -> list[HTTPRouteHandler]:
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
        token = access_token(request)
        if not token or token not in state.tokens_of_waba(object_id):
            raise invalid_token()
        query = {key: value for key, value in request.query_params.items()}
        url = request.url
        page_url = f"{url.scheme}://{url.netloc}{url.path}"
        return json_response(list_templates(state.templates_of(object_id), query, page_url))

    return [send_message, message_templates]
