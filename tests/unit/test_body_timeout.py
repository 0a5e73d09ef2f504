"""A client that sends its headers and then dribbles (or never finishes) its body gets a 408 in the
API's error shape and loses the connection; normal bodies, disconnects and other scopes are untouched."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, WebSocket, get, post, websocket
from litestar.exceptions import InternalServerException
from litestar.testing import AsyncTestClient

from tests.unit.served import served
from wanotify.common.config import load_settings
from wanotify.common.edge.body_timeout import body_timeout_middleware
from wanotify.common.edge.trace_id import trace_id_middleware

TIMEOUT = 0.5


def make_app(seconds: float, seen: list[str] | None = None) -> Litestar:
    @post("/echo", status_code=200)
    async def echo(request: Request[Any, Any, Any]) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @post("/echo-slowly", status_code=200)
    async def echo_slowly(request: Request[Any, Any, Any]) -> dict[str, int]:
        body = await request.body()
        await asyncio.sleep(seconds * 1.5)  # work after the body is in is not bounded
        return {"bytes": len(body)}

    @post("/watch", status_code=200)
    async def watch(request: Request[Any, Any, Any]) -> None:
        try:
            await request.body()
        except InternalServerException:
            if seen is not None:
                seen.append("disconnected")
            raise

    return Litestar(
        route_handlers=[echo, echo_slowly, watch],
        middleware=[trace_id_middleware, body_timeout_middleware(seconds)],
        logging_config=None,
    )


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[tuple[str, int]]:
    async with served(make_app(TIMEOUT)) as address:
        yield address


async def _raw_exchange(address: tuple[str, int], head: bytes, body_writer: Any) -> bytes:
    """Send ``head``, let ``body_writer(writer)`` send (part of) the body, return all the server says
    until it closes the connection."""
    reader, writer = await asyncio.open_connection(*address)
    writer.write(head)
    await writer.drain()
    dribble = asyncio.create_task(body_writer(writer))
    try:
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        dribble.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dribble
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _parse(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, json.loads(body)


HEAD = (
    b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: 100\r\n\r\n"
)


def _assert_timeout_response(raw: bytes) -> None:
    status, headers, body = _parse(raw)
    assert status == 408
    assert headers["connection"] == "close"
    assert headers["content-type"].startswith("application/json")
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "field", "trace_id"}
    assert error["code"] == "REQUEST_TIMEOUT"
    assert error["message"]
    assert error["field"] is None
    assert re.fullmatch(r"[0-9a-f]{32}", error["trace_id"])
    assert headers["x-trace-id"] == error["trace_id"]


async def test_a_body_that_never_finishes_gets_408_and_the_connection_closes(
    server: tuple[str, int],
) -> None:
    async def ten_bytes_then_silence(writer: asyncio.StreamWriter) -> None:
        writer.write(b"x" * 10)
        await writer.drain()
        await asyncio.Event().wait()

    # read() returning at all means the server closed the connection
    _assert_timeout_response(await _raw_exchange(server, HEAD, ten_bytes_then_silence))


async def test_a_dribbled_body_gets_408_even_though_every_byte_comes_soon(server: tuple[str, int]) -> None:
    async def a_byte_every_tenth_of_the_timeout(writer: asyncio.StreamWriter) -> None:
        for _ in range(100):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(TIMEOUT / 10)

    _assert_timeout_response(await _raw_exchange(server, HEAD, a_byte_every_tenth_of_the_timeout))


async def test_a_sane_trace_id_is_the_one_in_the_408(server: tuple[str, int]) -> None:
    head = HEAD.replace(b"Host: test\r\n", b"Host: test\r\nX-Trace-Id: slow-client-1\r\n")

    async def silence(writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    status, headers, body = _parse(await _raw_exchange(server, head, silence))
    assert status == 408
    assert body["error"]["trace_id"] == headers["x-trace-id"] == "slow-client-1"


async def test_a_normal_post_still_works(server: tuple[str, int]) -> None:
    async with httpx.AsyncClient(base_url=f"http://{server[0]}:{server[1]}") as client:
        small = await client.post("/echo", content=b"x" * 10)
        large = await client.post("/echo", content=b"x" * 300_000)
        after = await client.post("/echo", content=b"{}")  # same connection, after the others
    assert [r.status_code for r in (small, large, after)] == [200, 200, 200]
    assert [r.json()["bytes"] for r in (small, large, after)] == [10, 300_000, 2]


async def test_a_streamed_body_in_chunks_still_works(server: tuple[str, int]) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 20_000
            await asyncio.sleep(TIMEOUT / 20)

    async with httpx.AsyncClient(base_url=f"http://{server[0]}:{server[1]}") as client:
        response = await client.post("/echo", content=chunks())  # chunked transfer encoding
    assert response.status_code == 200
    assert response.json() == {"bytes": 100_000}


async def test_the_work_after_the_body_is_not_bounded(server: tuple[str, int]) -> None:
    async with httpx.AsyncClient(base_url=f"http://{server[0]}:{server[1]}", timeout=10) as client:
        response = await client.post("/echo-slowly", content=b"z" * 50)
    assert response.status_code == 200
    assert response.json() == {"bytes": 50}


async def test_a_client_that_leaves_is_a_disconnect_not_a_timeout() -> None:
    seen: list[str] = []
    async with served(make_app(60.0, seen)) as address:
        _, writer = await asyncio.open_connection(*address)
        writer.write(HEAD.replace(b"/echo", b"/watch") + b"x" * 10)
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        for _ in range(500):
            if seen:
                break
            await asyncio.sleep(0.02)
    assert seen == ["disconnected"]  # long before the 60 s deadline: the client's own disconnect


async def test_lifespan_and_websockets_pass_through() -> None:
    started: list[bool] = []

    @websocket("/ws")
    async def echo_ws(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        await socket.send_text(await socket.receive_text())
        await socket.close()

    @get("/ping", sync_to_thread=False)
    def ping() -> str:
        return "pong"

    app = Litestar(
        route_handlers=[echo_ws, ping], on_startup=[lambda: started.append(True)], logging_config=None
    )
    wrapped = body_timeout_middleware(TIMEOUT)(app)
    async with served(wrapped) as (host, port):
        assert started == [True]
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
            assert (await client.get("/ping")).text == "pong"
    async with AsyncTestClient(wrapped) as client:
        with await client.websocket_connect("/ws") as ws:
            ws.send_text("hello")
            assert ws.receive_text() == "hello"


def test_the_setting() -> None:
    assert load_settings({}).api.body_timeout_seconds == 10.0
    assert load_settings({}).receiver.body_timeout_seconds == 10.0
    assert load_settings({"HTTP_BODY_TIMEOUT_SECONDS": "2.5"}).api.body_timeout_seconds == 2.5
    assert load_settings({"HTTP_BODY_TIMEOUT_SECONDS": "0"}).receiver.body_timeout_seconds == 0.0


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_bad_setting_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="HTTP_BODY_TIMEOUT_SECONDS"):
        load_settings({"HTTP_BODY_TIMEOUT_SECONDS": value})
