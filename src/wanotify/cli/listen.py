"""``wa-notify webhooks listen``: client events on this machine, like ``stripe listen``.

It serves a local receiver, registers it as a webhook endpoint of the tenant whose key it has (the
embedded demo tenant's by default), verifies both signatures of every delivery, and prints one
line per event. Ctrl-C removes the endpoint again.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Request, post
from litestar.logging.config import LoggingConfig

from wanotify.cli.embedded import free_port
from wanotify.common.http import serve
from wanotify.common.webhooks.signing import SEED_SIGNATURE_HEADER, standard_signature, verify_seed

TOLERANCE_SECONDS = 300


def verify_standard(secret: str, headers: dict[str, str], body: bytes, *, now: int) -> bool:
    """The Standard Webhooks check: one of the ``v1,`` signatures matches, and the time is recent."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    expected = standard_signature(secret, msg_id, int(stamp), body)
    return any(
        hmac.compare_digest(expected, given) for given in headers.get("webhook-signature", "").split(" ")
    )


def describe(event: dict[str, Any], standard: bool, seed: bool) -> str:
    data = event.get("data", {})
    subject = data.get("notification_id") or data.get("recipient") or data.get("sender_id") or ""
    status = f" status={data['status']}" if "status" in data else ""
    checks = f"signatures: standard {'✓' if standard else '✗'} seed {'✓' if seed else '✗'}"
    return f"{event.get('timestamp', '')}  {event.get('event', '?'):<24} {subject}{status}  [{checks}]"


class Listener:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.received = 0

    def app(self) -> Litestar:
        @post("/", status_code=200)
        async def receive(request: Request[Any, Any, Any]) -> dict[str, bool]:
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            now = int(time.time())
            standard = verify_standard(self.secret, headers, body, now=now)
            seed = verify_seed(self.secret, headers.get(SEED_SIGNATURE_HEADER.lower()), body, now=now)
            try:
                event = json.loads(body)
            except ValueError:
                event = {"event": "(not JSON)"}
            self.received += 1
            print(describe(event, standard, seed), flush=True)
            print(f"    {json.dumps(event.get('data', {}), ensure_ascii=False)}", flush=True)
            return {"ok": standard and seed}

        return Litestar(
            [receive], openapi_config=None, logging_config=LoggingConfig(configure_root_logger=False)
        )


async def listen(api_url: str, key: str, events: list[str], port: int, stop: asyncio.Event) -> int:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/"
    listener = Listener()
    server = asyncio.create_task(serve(listener.app(), "127.0.0.1", port, stop))
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=api_url, headers=auth, timeout=15) as api:
        r = await api.post(
            "/v1/webhooks", json={"url": url, "events": events, "description": "wa-notify webhooks listen"}
        )
        if r.status_code != 201:
            stop.set()
            await server
            print(f"could not register {url}: {r.status_code} {r.text}", file=sys.stderr)
            return 1
        endpoint, listener.secret = r.json()["webhook"], r.json()["secret"]
        print(
            f"listening on {url} as webhook {endpoint['id']} for {', '.join(endpoint['events'])}", flush=True
        )
        print("every delivery's signatures are checked; Ctrl-C stops and removes the endpoint", flush=True)
        try:
            await stop.wait()
        finally:
            await api.delete(f"/v1/webhooks/{endpoint['id']}")
            await server
    return 0


def run_listen(api_url: str, key: str | None, key_file: Path, events: list[str], port: int) -> int:
    key = key or (key_file.read_text().strip() if key_file.exists() else "")
    if not key:
        print(f"no API key: pass --key, or run `make run` first (it writes {key_file})", file=sys.stderr)
        return 2

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await listen(api_url, key, events, port, stop)

    return asyncio.run(main())
