"""Schemathesis over the receiver's own OpenAPI document, against the real app and database.

Every generated request (examples, boundary and negative cases, random cases; every check) must
get a documented status with its documented content type, body and headers, and never a 500.
Most generated POST bodies are signed with the test app secret over the exact bytes sent, so they
reach the decoder; about one in ten keeps its generated (wrong) signature and must be refused with
401, as must a request without the header. The figures (operations, cases, failures) are printed;
a failure prints its check, message and a curl line that reproduces it.

A notification is sent (in the database) under the document's example wamid first, so the
example and the cases derived from it go all the way to the notification and its delivery log.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Iterable
from typing import Any

import pytest
import requests
import schemathesis
import schemathesis.engine
from litestar.testing import AsyncTestClient
from schemathesis.engine import Status, events
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import APP_SECRET
from tests.receiver.test_webhooks import sent_notification
from tests.support.world import TenantFixture
from wanotify.common.config import Settings
from wanotify.common.db.schema import notifications
from wanotify.common.meta.signature import sign
from wanotify.receiver.app import create_app
from wanotify.receiver.openapi import EXAMPLE_WAMID

pytestmark = [pytest.mark.contract]

SIGNATURE = "X-Hub-Signature-256"
_GENERATED = re.compile(r"sha256=[0-9a-f]{64}")
# Bodies whose SHA-256 starts with a byte below this keep their generated signature (26/256 ≈ 10%).
UNSIGNED_BELOW = 26
SEED = 20261204
MAX_EXAMPLES = 150


class SignBody(requests.auth.AuthBase):
    """Meta's signature over the prepared request's exact bytes, in place of the generated one.

    A request generated without the header (or with a value outside the documented pattern) is
    left as it is: those are the cases that check the 401.
    """

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        raw = body.encode() if isinstance(body, str) else body
        header = r.headers.get(SIGNATURE)
        if (
            isinstance(raw, bytes)
            and header is not None
            and _GENERATED.fullmatch(header)
            and hashlib.sha256(raw).digest()[0] >= UNSIGNED_BELOW
        ):
            r.headers[SIGNATURE] = sign(APP_SECRET, raw)
        return r


class Tally:
    """What the engine's events add up to: operations, cases, and each distinct failure once."""

    def __init__(self) -> None:
        self.operations: set[str] = set()
        self.cases = 0
        self.failed_checks = 0
        self.failures: dict[tuple[str, str, str], str] = {}
        self.errors: list[str] = []
        self.statuses: dict[str, int] = {}

    def add(self, stream: Iterable[events.EngineEvent]) -> None:
        for event in stream:
            if isinstance(event, events.ScenarioFinished) and event.label:
                self._scenario(event)
            elif isinstance(event, events.NonFatalError):
                self.errors.append(f"{event.label}: {event.info.format()}")
            elif isinstance(event, events.FatalError):
                self.errors.append(f"fatal: {event.exception!r}")

    def _scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.operations.add(recorder.label)
        self.cases += len(recorder.cases)
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                key = f"{recorder.label} {interaction.response.status_code}"
                self.statuses[key] = self.statuses.get(key, 0) + 1
        for checks in recorder.checks.values():
            for check in checks:
                if check.status != Status.FAILURE or check.failure_info is None:
                    continue
                self.failed_checks += 1
                failure = check.failure_info.failure
                key = (recorder.label, check.name, failure.title)
                self.failures.setdefault(
                    key, f"{failure.message.strip()}\n    {check.failure_info.code_sample}"
                )

    def report(self, seconds: float) -> str:
        lines = [
            f"schemathesis: {len(self.operations)} operations, {self.cases} cases, "
            f"{self.failed_checks} failed checks, {len(self.failures)} distinct failures, "
            f"{len(self.errors)} errors, {seconds:.1f} s"
        ]
        lines.append(repr(sorted(self.statuses.items())))
        for (operation, check, title), detail in sorted(self.failures.items()):
            lines.append(f"- {operation} [{check}] {title}\n    {detail}")
        lines.extend(f"- error {error}" for error in self.errors)
        return "\n".join(lines)


def run_schemathesis(settings: Settings) -> tuple[Tally, float]:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["all"],
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
            "workers": 1,
        }
    )
    loaded = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(settings), config=config)
    loaded.auth.set_from_requests(SignBody())
    tally = Tally()
    started = time.monotonic()
    try:
        tally.add(schemathesis.engine.from_schema(loaded).execute())
    finally:
        shutdown_lifespans()  # the app's engine and Redis client, before the session drops the database
    return tally, time.monotonic() - started


async def test_the_receiver_answers_as_documented(
    settings: Settings, api: AsyncTestClient[Any], tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid, _ = await sent_notification(api, tenant, engine)
    async with engine.begin() as conn:
        await conn.execute(
            update(notifications).where(notifications.c.id == nid).values(whatsapp_message_id=EXAMPLE_WAMID)
        )
    # Schemathesis blocks; the app it drives runs on schemathesis' own event loop thread.
    tally, seconds = await asyncio.to_thread(run_schemathesis, settings)
    report = tally.report(seconds)
    print(report)
    assert tally.operations, report
    assert not tally.failures and not tally.errors, report
