"""Test harness: run ASGI apps under uvicorn in-process, capture webhooks, poll for conditions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, NamedTuple

import httpx
import uvicorn
from litestar import Litestar, Request, Response, post
from litestar.logging.config import LoggingConfig

PNID = "100000000000001"
PNID_2 = "100000000000002"
PNID_OTHER_WABA = "100000000000003"
WABA = "200000000000001"
WABA_OTHER = "200000000000002"
WABA_PAGING = "200000000000003"
TOKEN = "EAAtest-token-1"
TOKEN_2 = "EAAtest-token-2"
TOKEN_OTHER_WABA = "EAAtest-token-3"
TOKEN_PAGING = "EAAtest-token-4"
DISPLAY = "+1 555 000 0001"
APP_SECRET = "test-app-secret"
VERSION = "v25.0"


LONG_PREFIX = "A" * 1000

SEED: dict[str, Any] = {
    "phone_numbers": [
        {"phone_number_id": PNID, "waba_id": WABA, "access_token": TOKEN, "display_phone_number": DISPLAY},
        {
            "phone_number_id": PNID_2,
            "waba_id": WABA,
            "access_token": TOKEN_2,
            "display_phone_number": "+1 555 000 0002",
        },
        {
            "phone_number_id": PNID_OTHER_WABA,
            "waba_id": WABA_OTHER,
            "access_token": TOKEN_OTHER_WABA,
            "display_phone_number": "+44 20 0000 0003",
        },
    ],
    "templates": [
        {"waba_id": WABA, "name": "hello_world", "language": "en_US", "status": "APPROVED",
         "category": "UTILITY", "components": [{"type": "BODY", "text": "Hello world"}]},
        {"waba_id": WABA, "id": "9000000000000001", "name": "order_update", "language": "en_US",
         "status": "APPROVED", "category": "UTILITY", "parameter_format": "POSITIONAL",
         "components": [
             {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
             {"type": "BODY", "text": "Hi {{1}}, order {{2}} ships {{3}}"},
             {"type": "FOOTER", "text": "Thanks"},
             {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop"}]},
         ]},
        {"waba_id": WABA, "name": "order_update", "language": "pt_BR", "status": "APPROVED",
         "category": "UTILITY", "components": [{"type": "BODY", "text": "Oi {{1}}"}]},
        {"waba_id": WABA, "name": "welcome_named", "language": "en_US", "status": "APPROVED",
         "category": "MARKETING", "parameter_format": "NAMED",
         "components": [{"type": "BODY", "text": "Hi {{first_name}}, your code is {{code}}"}]},
        {"waba_id": WABA, "name": "paused_tpl", "language": "en_US", "status": "PAUSED",
         "category": "MARKETING", "components": [{"type": "BODY", "text": "Paused"}]},
        {"waba_id": WABA, "name": "disabled_tpl", "language": "en_US", "status": "DISABLED",
         "category": "MARKETING", "components": [{"type": "BODY", "text": "Disabled"}]},
        {"waba_id": WABA, "name": "pending_tpl", "language": "en_US", "status": "PENDING",
         "category": "UTILITY", "components": [{"type": "BODY", "text": "Pending"}]},
        {"waba_id": WABA, "name": "long_body", "language": "en_US", "status": "APPROVED",
         "category": "UTILITY", "components": [{"type": "BODY", "text": LONG_PREFIX + " {{1}}"}]},
        {"waba_id": WABA, "name": "receipt", "language": "en_US", "status": "APPROVED",
         "category": "UTILITY", "components": [
             {"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Your receipt"}]},
        {"waba_id": WABA, "name": "track_order", "language": "en_US", "status": "APPROVED",
         "category": "UTILITY", "components": [
             {"type": "BODY", "text": "Track your order"},
             {"type": "BUTTONS", "buttons": [
                 {"type": "URL", "text": "Track", "url": "https://shop.test/t/{{1}}"}]}]},
        {"waba_id": WABA_OTHER, "name": "other_waba_only", "language": "en_US", "status": "APPROVED",
         "category": "UTILITY", "components": [{"type": "BODY", "text": "Other"}]},
    ],
}  # fmt: skip


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers: the test process owns its signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class RunningServer:
    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], port: int) -> None:
        self._server = server
        self._task = task
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self._server.should_exit = True
        await asyncio.wait_for(self._task, timeout=10)


async def start_server(app: Any) -> RunningServer:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Without TCP_NODELAY on a pre-bound socket, Nagle + delayed ACK add ~40 ms to every request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _QuietServer(uvicorn.Config(app, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await wait_until(lambda: server.started or task.done(), what="server start")
    if task.done():
        task.result()
        raise RuntimeError("server stopped during start-up")
    return RunningServer(server, task, port)


class Captured(NamedTuple):
    body: bytes
    headers: dict[str, str]
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


class CaptureServer:
    """A webhook target that records raw bodies and headers; answers 500 to its next `fail_next` requests."""

    def __init__(self) -> None:
        self.requests: list[Captured] = []
        self.fail_next = 0

    def clear(self) -> None:
        self.requests.clear()
        self.fail_next = 0

    def delivered(self) -> list[Captured]:
        return [r for r in self.requests if r.answered == 200]

    def app(self) -> Litestar:
        @post("/hook", status_code=200)
        async def hook(request: Request[Any, Any, Any]) -> Response[bytes]:
            body = await request.body()
            status = 200
            if self.fail_next > 0:
                self.fail_next -= 1
                status = 500
            self.requests.append(Captured(body, {k.lower(): v for k, v in request.headers.items()}, status))
            return Response(content=b"{}", status_code=status, media_type="application/json")

        return Litestar(
            [hook], openapi_config=None, logging_config=LoggingConfig(configure_root_logger=False)
        )


async def wait_until(condition: Callable[[], Any], *, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy (and return it); fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_until_async(
    fetch: Callable[[], Awaitable[Any]],
    done: Callable[[Any], bool],
    *,
    timeout: float = 10.0,
    what: str = "condition",
) -> Any:
    """Await `fetch()` until `done(result)`; returns that result; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await fetch()
        if done(result):
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def template_payload(
    to: str, name: str, *, language: str = "en_US", components: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components is not None:
        template["components"] = components
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": template,
    }


def text_payload(to: str, body: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}, **extra}


def body_params(*values: str) -> list[dict[str, Any]]:
    return [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]


class SandboxClient:
    """Talks to one running sandbox and reads what the capture server received."""

    def __init__(self, http: httpx.AsyncClient, capture: CaptureServer) -> None:
        self.http = http
        self.capture = capture

    async def send(
        self,
        payload: Any,
        *,
        phone_number_id: str = PNID,
        token: str | None = TOKEN,
        version: str = VERSION,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        if isinstance(payload, bytes):
            return await self.http.post(
                f"/{version}/{phone_number_id}/messages",
                content=payload,
                headers={**headers, "Content-Type": "application/json"},
            )
        return await self.http.post(f"/{version}/{phone_number_id}/messages", json=payload, headers=headers)

    async def inbound(self, wa_from: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/_sandbox/inbound", json={"phone_number_id": PNID, "from": wa_from, "text": text, **extra}
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def add_fault(self, **fault: Any) -> None:
        response = await self.http.post("/_sandbox/faults", json=fault)
        assert response.status_code == 201, response.text

    def status_items(self, wamid: str) -> list[tuple[Captured, dict[str, Any]]]:
        """Each delivered status webhook for `wamid`, with its statuses[0] item."""
        found = []
        for captured in self.capture.delivered():
            value = captured.json()["entry"][0]["changes"][0]["value"]
            for item in value.get("statuses", []):
                if item["id"] == wamid:
                    found.append((captured, item))
        return found

    async def wait_statuses(self, wamid: str, count: int) -> list[dict[str, Any]]:
        items = await wait_until(
            lambda: (found := self.status_items(wamid)) and len(found) >= count and found,
            what=f"{count} statuses for {wamid}",
        )
        return [item for _, item in items]
