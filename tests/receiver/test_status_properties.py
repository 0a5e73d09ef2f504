"""Property: whatever order and duplication Meta's statuses arrive in, the receiver ends in the
highest state reported (failed only before delivery), never moves backwards on the way, fills every
timestamp the final state implies, and keeps one delivery-log row per report."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.receiver.test_webhooks import envelope, load, post, sent_notification, status
from tests.support.world import TenantFixture

RANK = {"sent": 3, "delivered": 4, "read": 5}

statuses = st.lists(st.sampled_from(["sent", "delivered", "read", "failed"]), min_size=1, max_size=8)
batching = st.booleans()


def expected(sequence: list[str]) -> str:
    state = "sent"
    for reported in sequence:
        if state == "failed":
            continue
        if reported == "failed":
            if RANK[state] <= RANK["sent"]:
                state = "failed"
        elif RANK[reported] > RANK[state]:
            state = reported
    return state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=statuses, one_delivery=batching)
async def test_any_order_and_duplication_converges(
    sequence: list[str],
    one_delivery: bool,
    receiver: str,
    api: AsyncTestClient[Any],
    tenant: TenantFixture,
    engine: AsyncEngine,
) -> None:
    nid, wamid = await sent_notification(api, tenant, engine)
    t = int(time.time())
    items = [
        status(wamid, s, t + RANK.get(s, 6), **({"errors": [{"code": 131026}]} if s == "failed" else {}))
        for s in sequence
    ]
    seen = ["sent"]
    if one_delivery:
        assert (await post(receiver, envelope(*items))).status_code == 200
    else:
        for item in items:
            assert (await post(receiver, envelope(item))).status_code == 200
            n, _ = await load(engine, nid)
            seen.append(n.status.value)
    n, history = await load(engine, nid)
    want = expected(sequence)
    assert n.status.value == want
    ranks = [RANK.get(s, 0) for s in seen if s != "failed"]
    assert ranks == sorted(ranks), f"moved backwards: {seen}"
    if want in ("delivered", "read"):
        assert n.delivered_at is not None
    if want == "read":
        assert n.read_at is not None
        assert n.delivered_at is not None and n.delivered_at <= n.read_at
    if want == "failed":
        assert n.error_code == "131026"
        assert n.delivered_at is None
    assert len([h for h in history if h["source"] == "meta"]) == len(sequence)
