"""Delivering signed webhooks to the configured URL, with retries, as background tasks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any, NamedTuple

import httpx

from wanotify.sandbox.behaviours import StatusKnobs, status_sequence
from wanotify.sandbox.errors import webhook_error
from wanotify.sandbox.models import PhoneNumber, WebhookAttempt, WebhookKind
from wanotify.sandbox.payloads import Billing, status_payload
from wanotify.sandbox.settings import SandboxSettings
from wanotify.sandbox.signing import SIGNATURE_HEADER, encode_webhook, signature
from wanotify.sandbox.state import SandboxState

USER_AGENT = "facebookexternalua"


class StatusPlan(NamedTuple):
    """What happens to an accepted message: sent, delivered, read; or failed with `failure_code`."""

    phone: PhoneNumber
    wamid: str
    wa_id: str
    callback_data: str | None
    billing: Billing
    failure_code: int | None = None
    knobs: StatusKnobs = StatusKnobs()


class WebhookDispatcher:
    def __init__(self, settings: SandboxSettings, state: SandboxState) -> None:
        self._settings = settings
        self._state = state
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    @property
    def enabled(self) -> bool:
        return bool(self._settings.webhook_url)

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self._settings.webhook_timeout_seconds)

    async def stop(self) -> None:
        await self.cancel_all()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def schedule_statuses(self, plan: StatusPlan) -> None:
        if self.enabled:
            self._spawn(self._status_flow(plan, asyncio.get_running_loop().time()))

    def schedule_payload(
        self, kind: WebhookKind, wamid: str | None, payload: dict[str, Any], *, status: str | None = None
    ) -> None:
        if self.enabled:
            self._spawn(self.deliver(kind, wamid, status, payload))

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run background work that `/_sandbox/reset` and shutdown cancel."""
        self._spawn(work)

    @property
    def webhook_url(self) -> str:
        return self._settings.webhook_url

    @property
    def timeout_seconds(self) -> float:
        return self._settings.webhook_timeout_seconds

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task: asyncio.Task[None] = asyncio.create_task(_run_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _status_flow(self, plan: StatusPlan, accepted_at: float) -> None:
        settings = self._settings
        knobs = plan.knobs
        sequence = status_sequence(knobs, failed=plan.failure_code is not None)
        # The n-th distinct status goes out at the n-th normal delay, whatever its name.
        delays = [settings.sent_delay_seconds, settings.delivered_delay_seconds, settings.read_delay_seconds]
        loop = asyncio.get_running_loop()
        position = -1
        previous: str | None = None
        for status in sequence:
            if status != previous:
                position += 1
                previous = status
                delay = knobs.delay_seconds + delays[min(position, len(delays) - 1)]
                await asyncio.sleep(max(0.0, accepted_at + delay - loop.time()))
            payload = status_payload(
                plan.phone,
                wamid=plan.wamid,
                status=status,
                recipient_id=plan.wa_id,
                timestamp=int(time.time()),
                callback_data=plan.callback_data,
                billing=plan.billing if status == "sent" else None,
                errors=[webhook_error(plan.failure_code)] if plan.failure_code is not None else None,
            )
            await self.deliver("status", plan.wamid, status, payload)

    async def deliver(self, kind: WebhookKind, wamid: str | None, status: str | None, payload: Any) -> bool:
        """POST one signed webhook, retrying non-200 answers with doubling delays; True once delivered."""
        if self._client is None:
            raise RuntimeError("the webhook dispatcher is not started")
        settings = self._settings
        body = encode_webhook(payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature(settings.app_secret, body),
        }
        for attempt in range(1, settings.webhook_max_attempts + 1):
            http_status: int | None = None
            error: str | None = None
            try:
                response = await self._client.post(settings.webhook_url, content=body, headers=headers)
                http_status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            self._state.webhooks.append(
                WebhookAttempt(
                    kind=kind,
                    wamid=wamid,
                    status=status,
                    url=settings.webhook_url,
                    body=body.decode("ascii"),
                    attempt=attempt,
                    http_status=http_status,
                    error=error,
                    at=time.time(),
                )
            )
            if http_status == 200:
                return True
            if attempt < settings.webhook_max_attempts:
                await asyncio.sleep(settings.webhook_retry_base_seconds * 2 ** (attempt - 1))
        return False


async def _run_logged(work: Coroutine[Any, Any, Any]) -> None:
    try:
        await work
    except Exception:
        logging.getLogger(__name__).exception("sandbox webhook task failed")
