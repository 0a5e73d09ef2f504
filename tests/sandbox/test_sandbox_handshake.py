"""`POST /_sandbox/verify-webhook`: the sandbox sends Meta's verification GET to its webhook URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, Response, get
from litestar.logging.config import LoggingConfig

from tests.sandbox.conftest import StartSandbox
from tests.sandbox.harness import RunningServer, start_server

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOKEN = "my-verify-token"


class Verifier:
    """A webhook target answering the GET handshake like a subscriber would (or wrongly)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    def app(self) -> Litestar:
        @get("/good", sync_to_thread=False)
        def good(request: Request[Any, Any, Any]) -> Response[str]:
            query = dict(request.query_params.items())
            self.seen.append(query)
            if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == TOKEN:
                return Response(content=query["hub.challenge"], status_code=200, media_type="text/plain")
            return Response(content="forbidden", status_code=403, media_type="text/plain")

        @get("/wrong", sync_to_thread=False)
        def wrong(request: Request[Any, Any, Any]) -> Response[str]:
            query = dict(request.query_params.items())
            self.seen.append(query)
            return Response(
                content=f'"{query.get("hub.challenge")}"', status_code=200, media_type="text/plain"
            )

        return Litestar(
            [good, wrong], openapi_config=None, logging_config=LoggingConfig(configure_root_logger=False)
        )


@pytest.fixture(scope="module")
async def verifier() -> AsyncIterator[tuple[Verifier, RunningServer]]:
    target = Verifier()
    server = await start_server(target.app())
    yield target, server
    await server.stop()


async def verify(start_sandbox: StartSandbox, url: str, token: str) -> httpx.Response:
    sandbox = await start_sandbox(webhook_url=url)
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        return await http.post("/_sandbox/verify-webhook", json={"verify_token": token})


async def test_handshake_verified(
    start_sandbox: StartSandbox, verifier: tuple[Verifier, RunningServer]
) -> None:
    target, server = verifier
    target.seen.clear()
    response = await verify(start_sandbox, f"{server.url}/good", TOKEN)
    assert response.status_code == 200, response.text
    [query] = target.seen
    assert query["hub.mode"] == "subscribe"
    assert query["hub.verify_token"] == TOKEN
    assert query["hub.challenge"].isdigit()
    assert response.json() == {"verified": True, "status": 200, "echoed": query["hub.challenge"]}


async def test_handshake_wrong_token(
    start_sandbox: StartSandbox, verifier: tuple[Verifier, RunningServer]
) -> None:
    _, server = verifier
    response = await verify(start_sandbox, f"{server.url}/good", "not-the-token")
    assert response.json() == {"verified": False, "status": 403, "echoed": "forbidden"}


async def test_handshake_wrong_echo(
    start_sandbox: StartSandbox, verifier: tuple[Verifier, RunningServer]
) -> None:
    target, server = verifier
    target.seen.clear()
    response = await verify(start_sandbox, f"{server.url}/wrong", TOKEN)
    [query] = target.seen
    assert response.json() == {"verified": False, "status": 200, "echoed": f'"{query["hub.challenge"]}"'}


async def test_handshake_unreachable(start_sandbox: StartSandbox) -> None:
    response = await verify(start_sandbox, "http://127.0.0.1:9/nothing", TOKEN)
    body = response.json()
    assert (body["verified"], body["status"], body["echoed"]) == (False, None, None)
    assert body["error"]


async def test_handshake_needs_a_webhook_url(start_sandbox: StartSandbox) -> None:
    response = await verify(start_sandbox, "", TOKEN)
    assert response.status_code == 400


async def test_handshake_body_validated(start_sandbox: StartSandbox) -> None:
    sandbox = await start_sandbox()
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        assert (await http.post("/_sandbox/verify-webhook", json={})).status_code == 400
