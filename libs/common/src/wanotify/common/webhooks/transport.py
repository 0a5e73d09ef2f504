"""One signed POST of a client event to an endpoint, as the worker and the API's test route make it.

The host is resolved and every address checked first (:func:`resolve_and_check`); the request then
goes to the checked address, with the name kept in the Host header and in TLS SNI (so the
certificate is checked against it), so a name cannot re-resolve elsewhere in between. Redirects are
not followed and only the first 1 KB of the answer is read.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec

from wanotify.common.config import WebhookSettings
from wanotify.common.crypto import SecretBox
from wanotify.common.domain.webhook import AttemptOutcome
from wanotify.common.webhooks.schedule import parse_retry_after
from wanotify.common.webhooks.secrets import secret_context
from wanotify.common.webhooks.signing import SEED_SIGNATURE_HEADER, seed_header, standard_headers
from wanotify.common.webhooks.urls import Resolver, UnsafeDestination, resolve_and_check

RESPONSE_BODY_LIMIT = 1024
USER_AGENT = "wa-notify-webhooks/1"


def create_webhook_client(settings: WebhookSettings) -> httpx.AsyncClient:
    """No redirects, no proxy from the environment, ``concurrency`` connections."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=settings.concurrency),
    )


def storable(text: str) -> str:
    """An endpoint's answer as PostgreSQL can keep it: no NUL (and no lone surrogate)."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def pinned_url(url: str, address: str) -> str:
    """``url`` with its host replaced by the checked ``address``."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def endpoint_secrets(
    box: SecretBox,
    tenant_id: str,
    current: bytes,
    previous: bytes | None,
    previous_expires_at: datetime | None,
) -> list[str]:
    """The secrets a delivery is signed with: the current one, and the previous one during its overlap."""
    context = secret_context(tenant_id)
    secrets = [box.decrypt(current, context=context)]
    if previous is not None and previous_expires_at is not None and previous_expires_at > datetime.now(UTC):
        secrets.append(box.decrypt(previous, context=context))
    return secrets


class WebhookTransport:
    def __init__(self, http: httpx.AsyncClient, settings: WebhookSettings, resolver: Resolver) -> None:
        self._http = http
        self._settings = settings
        self._resolver = resolver

    async def post(
        self, url: str, event_id: str, payload: dict[str, Any], secrets: list[str]
    ) -> AttemptOutcome:
        body = msgspec.json.encode(payload)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **standard_headers(secrets, event_id, timestamp, body),
            SEED_SIGNATURE_HEADER: seed_header(secrets, timestamp, body),
        }
        parts = urlsplit(url)
        host = parts.hostname or ""
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            addresses = await resolve_and_check(
                host,
                parts.port or (443 if parts.scheme == "https" else 80),
                allow_private=self._settings.allow_private_networks,
                resolver=self._resolver,
            )
        except UnsafeDestination as e:
            return AttemptOutcome(elapsed(), error=e.message)
        except OSError as e:
            return AttemptOutcome(elapsed(), error=storable(f"the host did not resolve: {e}"))
        headers["host"] = parts.netloc.rpartition("@")[2]
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        timeout = self._settings.timeout_seconds
        try:
            async with self._http.stream(
                "POST",
                pinned_url(url, addresses[0]),
                content=body,
                headers=headers,
                timeout=timeout,
                extensions=extensions,
            ) as response:
                head = b""
                async for chunk in response.aiter_bytes():
                    head += chunk
                    if len(head) >= RESPONSE_BODY_LIMIT:
                        break
                retry_after = (
                    parse_retry_after(response.headers.get("retry-after"), now=datetime.now(UTC))
                    if response.status_code in (429, 503)
                    else None
                )
                return AttemptOutcome(
                    elapsed(),
                    status_code=response.status_code,
                    response_body=storable(head[:RESPONSE_BODY_LIMIT].decode("utf-8", "replace")),
                    retry_after_seconds=retry_after,
                )
        except httpx.TimeoutException:
            return AttemptOutcome(elapsed(), error=f"timed out after {timeout:g} s")
        except httpx.HTTPError as e:
            return AttemptOutcome(elapsed(), error=storable(f"{type(e).__name__}: {e}"[:500]))
