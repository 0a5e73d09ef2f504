"""One contract, two adapters: the PostgreSQL queue table and SQS (on moto) behave the same way.

Each test gets its own queue (a fresh SQS queue, or a fresh queue name in the PostgreSQL table).
Adapters are built with the visibility timeout a test needs: long where a redelivery would spoil an
exactly-once count, one second where the redelivery itself is under test.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import eventually
from tests.support.servers import create_database, drop_database
from wanotify.common.db.engine import create_engine
from wanotify.common.db.migrate import migrate
from wanotify.common.queue.base import (
    MAX_BATCH,
    OutgoingMessage,
    Queue,
    QueueDepth,
    QueueError,
    ReceivedMessage,
)
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.common.queue.sqs import SqsQueue

LONG_VISIBILITY = 30  # longer than any test: nothing comes back unless the test asks for it
SHORT_VISIBILITY = 1  # for redelivery tests
WAIT = 0.2  # long-poll of one receive call in loops
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class MakeQueue(Protocol):
    def __call__(self, visibility: int = LONG_VISIBILITY) -> Queue: ...


@pytest.fixture(params=["postgres", "sqs"])
def make_queue(request: pytest.FixtureRequest) -> MakeQueue:
    """Adapters on one fresh queue; several calls give several consumers of the same queue (the caller
    closes what it makes)."""
    if request.param == "postgres":
        engine: AsyncEngine = request.getfixturevalue("engine")
        name = f"contract-{secrets.token_hex(6)}"

        def make(visibility: int = LONG_VISIBILITY) -> Queue:
            return PostgresQueue(engine, name, visibility_timeout=visibility, poll_interval=0.05)

    else:
        url: str = request.getfixturevalue("sqs_queue_url")
        endpoint: str = request.getfixturevalue("moto_endpoint")

        def make(visibility: int = LONG_VISIBILITY) -> Queue:
            return SqsQueue(url, region="us-east-1", endpoint_url=endpoint, visibility_timeout=visibility)

    return make


@pytest.fixture
async def queue(make_queue: MakeQueue) -> AsyncIterator[Queue]:
    q = make_queue()
    yield q
    await q.close()


@pytest.fixture
async def short_queue(make_queue: MakeQueue) -> AsyncIterator[Queue]:
    q = make_queue(SHORT_VISIBILITY)
    yield q
    await q.close()


def outgoing(bodies: list[str]) -> list[OutgoingMessage]:
    return [OutgoingMessage(body=b) for b in bodies]


async def receive_until(
    q: Queue, count: int, *, timeout: float = 15, max_messages: int = MAX_BATCH
) -> list[ReceivedMessage]:
    """Receive until ``count`` messages have arrived (duplicates included, so they can be seen)."""
    got: list[ReceivedMessage] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        batch = await q.receive(max_messages, WAIT)
        assert len(batch) <= max_messages
        got.extend(batch)
    return got


async def assert_nothing_arrives(q: Queue, seconds: float) -> None:
    """Keep receiving for ``seconds``; every receive must come back empty."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = await q.receive(MAX_BATCH, WAIT)
        assert batch == [], [m.body for m in batch]


# ------------------------------------------------------------------------------------------ tests


async def test_send_batch_larger_than_sqs_batch_then_receive_each_once(queue: Queue) -> None:
    bodies = [f"message-{i:02d}" for i in range(25)]
    assert await queue.send_batch(outgoing(bodies)) == []

    got = await receive_until(queue, 25)
    counts = Counter(m.body for m in got)
    assert set(counts) == set(bodies)
    assert all(n == 1 for n in counts.values()), [b for b, n in counts.items() if n > 1]
    assert all(m.receive_count == 1 for m in got)
    assert len({m.message_id for m in got}) == 25
    assert len({m.receipt for m in got}) == 25

    # In flight (visibility 30 s): none of them is handed out again.
    assert await queue.receive(MAX_BATCH, 0.5) == []


async def test_receive_respects_max_messages(queue: Queue) -> None:
    await queue.send_batch(outgoing([f"m{i}" for i in range(7)]))
    await eventually(lambda: queue.depth(), lambda d: d.visible == 7, timeout=10, what="7 visible")
    first = await queue.receive(3, WAIT)
    assert 1 <= len(first) <= 3
    rest = await receive_until(queue, 7 - len(first))
    assert sorted(m.body for m in first + rest) == sorted(f"m{i}" for i in range(7))


async def test_empty_send_batch_is_a_no_op(queue: Queue) -> None:
    assert await queue.send_batch([]) == []
    assert await queue.receive(MAX_BATCH, WAIT) == []


async def test_body_and_attributes_round_trip(queue: Queue) -> None:
    body = '{"notification_id":"notif_01jabcdefghjkmnpqrstvwxyz0","name":"José 🙂"}'
    await queue.send_batch(
        [
            OutgoingMessage(body=body, attributes={"traceparent": TRACEPARENT, "tenant_id": "tnt_1"}),
            OutgoingMessage(body="no-attributes"),
        ]
    )
    got = {m.body: m for m in await receive_until(queue, 2)}
    assert set(got) == {body, "no-attributes"}
    assert got[body].attributes == {"traceparent": TRACEPARENT, "tenant_id": "tnt_1"}
    assert got["no-attributes"].attributes == {}


async def test_delete_removes_for_good(short_queue: Queue) -> None:
    bodies = ["delete-0", "delete-1", "delete-2", "keep"]
    await short_queue.send_batch(outgoing(bodies))
    got = await receive_until(short_queue, 4)
    assert sorted(m.body for m in got) == sorted(bodies)
    await short_queue.delete([m.receipt for m in got if m.body != "keep"])

    # Wait for the undeleted message to come back after the visibility timeout; the deleted ones
    # must never show up, before or after it.
    seen: list[ReceivedMessage] = []

    async def probe() -> list[ReceivedMessage]:
        seen.extend(await short_queue.receive(MAX_BATCH, WAIT))
        return seen

    await eventually(probe, lambda s: any(m.body == "keep" for m in s), timeout=15, what="redelivery")
    assert [m.body for m in seen] == ["keep"]
    await short_queue.delete([seen[0].receipt])
    await assert_nothing_arrives(short_queue, SHORT_VISIBILITY + 1.0)
    depth = await short_queue.depth()
    assert depth.total == 0, depth


async def test_redelivery_after_visibility_timeout_counts_receives(short_queue: Queue) -> None:
    await short_queue.send_batch([OutgoingMessage(body="again", attributes={"traceparent": TRACEPARENT})])
    (first,) = await receive_until(short_queue, 1)
    assert first.receive_count == 1
    assert await short_queue.receive(MAX_BATCH, 0) == []  # invisible right after the receive

    (second,) = await eventually(
        lambda: short_queue.receive(MAX_BATCH, WAIT), lambda b: len(b) > 0, timeout=15, what="redelivery"
    )
    assert second.body == "again"
    assert second.message_id == first.message_id
    assert second.attributes == {"traceparent": TRACEPARENT}
    assert second.receive_count == 2

    (third,) = await eventually(
        lambda: short_queue.receive(MAX_BATCH, WAIT), lambda b: len(b) > 0, timeout=15, what="redelivery"
    )
    assert third.receive_count == 3

    await short_queue.delete([third.receipt])
    await assert_nothing_arrives(short_queue, SHORT_VISIBILITY + 1.0)


async def test_delay_hides_a_message_until_due(queue: Queue) -> None:
    await queue.send_batch(
        [OutgoingMessage(body="later", delay_seconds=2), OutgoingMessage(body="now", delay_seconds=0)]
    )
    (now,) = await receive_until(queue, 1)
    assert now.body == "now"
    assert await queue.receive(MAX_BATCH, 0) == []

    (later,) = await eventually(
        lambda: queue.receive(MAX_BATCH, WAIT), lambda b: len(b) > 0, timeout=15, what="delayed message"
    )
    assert later.body == "later"
    assert later.receive_count == 1


async def test_change_visibility_zero_makes_it_visible_at_once(queue: Queue) -> None:
    await queue.send_batch(outgoing(["back"]))
    (first,) = await receive_until(queue, 1)
    await queue.change_visibility(first.receipt, 0)
    # The visibility timeout is 30 s: only the change can bring it back within this test.
    (again,) = await eventually(
        lambda: queue.receive(MAX_BATCH, WAIT), lambda b: len(b) > 0, timeout=10, what="message back"
    )
    assert again.body == "back"
    assert again.receive_count == 2
    await queue.delete([again.receipt])


async def test_change_visibility_extends_the_lease(short_queue: Queue) -> None:
    await short_queue.send_batch(outgoing(["busy"]))
    (first,) = await receive_until(short_queue, 1)
    await short_queue.change_visibility(first.receipt, 30)
    await assert_nothing_arrives(short_queue, SHORT_VISIBILITY + 1.5)
    await short_queue.delete([first.receipt])


async def test_depth_counts_visible_in_flight_and_delayed(queue: Queue) -> None:
    assert await queue.depth() == QueueDepth(visible=0, in_flight=0, delayed=0)
    await queue.send_batch(
        [
            OutgoingMessage(body="a"),
            OutgoingMessage(body="b"),
            OutgoingMessage(body="c"),
            OutgoingMessage(body="d", delay_seconds=120),
        ]
    )
    await eventually(
        lambda: queue.depth(),
        lambda d: d == QueueDepth(visible=3, in_flight=0, delayed=1),
        timeout=10,
        what="3 visible + 1 delayed",
    )
    got = await queue.receive(1, WAIT)
    assert len(got) == 1
    depth = await eventually(
        lambda: queue.depth(),
        lambda d: d == QueueDepth(visible=2, in_flight=1, delayed=1),
        timeout=10,
        what="2 visible + 1 in flight + 1 delayed",
    )
    assert depth.total == 4
    await queue.delete([got[0].receipt])
    await eventually(
        lambda: queue.depth(),
        lambda d: d == QueueDepth(visible=2, in_flight=0, delayed=1),
        timeout=10,
        what="deleted message gone from depth",
    )


async def test_receive_on_empty_queue_waits_then_returns_nothing(queue: Queue) -> None:
    assert await queue.receive(MAX_BATCH, 1) == []


async def test_two_concurrent_receivers_never_share_a_message(make_queue: MakeQueue) -> None:
    producer, a, b = make_queue(), make_queue(), make_queue()
    bodies = [f"job-{i:02d}" for i in range(50)]
    assert await producer.send_batch(outgoing(bodies)) == []

    received: dict[str, list[str]] = {"a": [], "b": []}
    deadline = time.monotonic() + 20

    async def consume(name: str, q: Queue) -> None:
        while sum(len(v) for v in received.values()) < len(bodies) and time.monotonic() < deadline:
            batch = await q.receive(5, WAIT)
            received[name].extend(m.body for m in batch)

    await asyncio.gather(consume("a", a), consume("b", b))
    for q in (producer, a, b):
        await q.close()

    got_a, got_b = received["a"], received["b"]
    assert len(got_a) == len(set(got_a))
    assert len(got_b) == len(set(got_b))
    assert set(got_a) & set(got_b) == set()
    assert set(got_a) | set(got_b) == set(bodies)


# ------------------------------------------------------------------- PostgreSQL adapter only


@pytest.fixture
async def unreachable_queue() -> AsyncIterator[PostgresQueue]:
    # A port that is bound but not listening: connections are refused, and nobody can take it.
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        engine = create_engine(f"postgresql://postgres@127.0.0.1:{port}/wanotify", pool_size=1)
        yield PostgresQueue(engine, "unreachable", visibility_timeout=LONG_VISIBILITY)
        await engine.dispose()


OPERATIONS: dict[str, Callable[[PostgresQueue], object]] = {
    "send_batch": lambda q: q.send_batch(outgoing(["x"])),
    "receive": lambda q: q.receive(MAX_BATCH, 0),
    "delete": lambda q: q.delete(["0123456789abcdef0123456789abcdef:1"]),
    "change_visibility": lambda q: q.change_visibility("0123456789abcdef0123456789abcdef:1", 0),
    "depth": lambda q: q.depth(),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_postgres_unreachable_raises_queue_error(
    unreachable_queue: PostgresQueue, operation: str
) -> None:
    with pytest.raises(QueueError):
        await OPERATIONS[operation](unreachable_queue)  # type: ignore[misc]


@pytest.fixture
async def fresh_engine(pg_admin_url: str) -> AsyncIterator[AsyncEngine]:
    """A database of its own, so the message ids this test uses up do not leak into other tests."""
    url = await create_database(pg_admin_url, prefix="wanotify_queue")
    engine = create_engine(url, pool_size=2)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()
        await drop_database(pg_admin_url, url)


async def test_postgres_keeps_working_past_a_thousand_messages(fresh_engine: AsyncEngine) -> None:
    """A long-lived queue table sees ever larger message ids; receipts must stay valid for them."""
    queue = PostgresQueue(fresh_engine, "backlog", visibility_timeout=LONG_VISIBILITY, poll_interval=0.05)
    bodies = [f"backlog-{i:04d}" for i in range(1001)]
    assert await queue.send_batch(outgoing(bodies)) == []
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + 30
    while sum(counts.values()) < len(bodies) and time.monotonic() < deadline:
        batch = await queue.receive(MAX_BATCH, WAIT)
        counts.update(m.body for m in batch)
        if batch:
            await queue.delete([m.receipt for m in batch])
    assert set(counts) == set(bodies)
    assert max(counts.values()) == 1
    assert await queue.depth() == QueueDepth(visible=0, in_flight=0, delayed=0)
