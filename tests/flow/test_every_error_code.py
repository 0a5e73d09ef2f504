"""Every error code in the reference's table, driven through the sandbox: the class it falls in,
the state the notification ends in, and the retry timing the worker chose."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.flow.conftest import wait_status
from tests.support.faults import inject_fault
from tests.support.processes import eventually
from tests.support.world import make_tenant, order_request
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.meta.errors import ErrorClass, classify

# (code, class) for every row of reference §3.3 (200–299 sampled at both ends and the middle).
TABLE: list[tuple[int, ErrorClass]] = [
    (0, ErrorClass.SENDER),
    (1, ErrorClass.SOON),
    (2, ErrorClass.SOON),
    (3, ErrorClass.PERMANENT),
    (4, ErrorClass.LONG),
    (10, ErrorClass.SENDER),
    (33, ErrorClass.SENDER),
    (80007, ErrorClass.LONG),
    (100, ErrorClass.PERMANENT),
    (190, ErrorClass.SENDER),
    (200, ErrorClass.SENDER),
    (250, ErrorClass.SENDER),
    (299, ErrorClass.SENDER),
    (368, ErrorClass.SENDER),
    (130403, ErrorClass.PERMANENT),
    (130429, ErrorClass.THROTTLED),
    (130472, ErrorClass.PERMANENT),
    (130497, ErrorClass.PERMANENT),
    (131000, ErrorClass.SOON),
    (131005, ErrorClass.SENDER),
    (131008, ErrorClass.PERMANENT),
    (131009, ErrorClass.PERMANENT),
    (131016, ErrorClass.SOON),
    (131021, ErrorClass.PERMANENT),
    (131026, ErrorClass.PERMANENT),
    (131030, ErrorClass.PERMANENT),
    (131031, ErrorClass.SENDER),
    (131037, ErrorClass.SENDER),
    (131042, ErrorClass.SENDER),
    (131045, ErrorClass.SENDER),
    (131047, ErrorClass.PERMANENT),
    (131048, ErrorClass.SENDER),
    (131049, ErrorClass.LONG),
    (131050, ErrorClass.PERMANENT),
    (131051, ErrorClass.PERMANENT),
    (131052, ErrorClass.PERMANENT),
    (131053, ErrorClass.PERMANENT),
    (131056, ErrorClass.PAIR),
    (131057, ErrorClass.SOON),
    (131063, ErrorClass.PERMANENT),
    (131064, ErrorClass.SENDER),
    (132000, ErrorClass.PERMANENT),
    (132001, ErrorClass.PERMANENT),
    (132005, ErrorClass.PERMANENT),
    (132007, ErrorClass.PERMANENT),
    (132012, ErrorClass.PERMANENT),
    (132015, ErrorClass.PERMANENT),
    (132016, ErrorClass.PERMANENT),
    (132068, ErrorClass.PERMANENT),
    (132069, ErrorClass.LONG),
    (133000, ErrorClass.PERMANENT),
    (133004, ErrorClass.SOON),
    (133005, ErrorClass.SENDER),
    (133006, ErrorClass.SENDER),
    (133007, ErrorClass.SENDER),
    (133008, ErrorClass.SENDER),
    (133009, ErrorClass.SENDER),
    (133010, ErrorClass.SENDER),
    (133015, ErrorClass.SENDER),
    (133016, ErrorClass.SENDER),
    (135000, ErrorClass.PERMANENT),
]

# Nominal first-retry delay per class (seconds) and Meta's fixed waits; jitter is ±25 %.
FIRST_DELAY = {ErrorClass.SOON: 2.0, ErrorClass.THROTTLED: 1.0, ErrorClass.PAIR: 1.0, ErrorClass.LONG: 300.0}
FIXED = {131049: 24 * 3600.0}


def test_the_table_is_the_classifier() -> None:
    assert [(code, classify(code)) for code, _ in TABLE] == TABLE


@pytest.mark.parametrize(("code", "error_class"), TABLE, ids=[str(c) for c, _ in TABLE])
async def test_error_code_through_the_sandbox(
    code: int,
    error_class: ErrorClass,
    api: AsyncTestClient[Any],
    engine: AsyncEngine,
    box: SecretBox,
    sandbox_url: str,
    worker: None,
    recipient: str,
) -> None:
    tenant = await make_tenant(engine, box, sandbox_url)  # its own sender: sender errors pause it
    async with httpx.AsyncClient(base_url=sandbox_url) as sandbox:
        await inject_fault(sandbox, recipient, code)
    r = await api.post("/v1/notifications", json=order_request(recipient), headers=tenant.auth)
    assert r.status_code == 201, r.text
    nid = r.json()["id"]

    async def first_outcome() -> list[dict[str, Any]]:
        async with UnitOfWork(engine) as uow:
            return [
                h
                for h in await uow.notifications.history(nid)
                if h["event"] in {"failed", "retry_scheduled", "sender_paused", "deferred"}
            ]

    outcome = (await eventually(first_outcome, bool, timeout=30, what=f"the outcome of error {code}"))[0]
    assert outcome["error_code"] == str(code)

    if error_class is ErrorClass.PERMANENT:
        n = await wait_status(engine, nid, {"failed"})
        assert n.error_code == str(code)
        assert n.error_retryable is False
    elif error_class is ErrorClass.SENDER:
        async with UnitOfWork(engine) as uow:
            sender = await uow.senders.get(tenant.sender_id)
            n = await uow.notifications.get(nid)
        assert sender is not None and sender.paused_code == str(code)
        assert n is not None and n.status.value in {"queued", "rate_limited"}
        assert n.attempt == 0, "a paused sender's notification must not burn its attempt"
    else:
        assert outcome["event"] == "retry_scheduled"
        due = datetime.fromisoformat(outcome["detail"]["next_attempt_at"])
        delay = (due - outcome["occurred_at"]).total_seconds()
        nominal = FIXED.get(code, FIRST_DELAY[error_class])
        spread = 0 if code in FIXED else 0.25
        assert nominal * (1 - spread) - 0.5 <= delay <= nominal * (1 + spread) + 0.5, (code, delay)
        if nominal < 10:  # short retries happen within the test: the fault was for one send only
            n = await wait_status(engine, nid, {"sent", "delivered", "read"})
            assert n.attempt == 2
