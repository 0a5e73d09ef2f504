"""Priority lanes over the real backends: one PostgreSQL queue name per lane, one SQS queue per lane
(moto), and SQS without lane URLs collapsing into the one queue."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import AsyncIterator, Callable

import boto3
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import eventually
from wanotify.common.config import QueueSettings
from wanotify.common.domain.priority import PG_LANE_NAMES, Priority
from wanotify.common.queue.base import MESSAGING_SYSTEMS, OutgoingMessage, Queue, ReceivedMessage
from wanotify.common.queue.factory import create_queue
from wanotify.common.queue.lanes import LanedQueue, TransactionalLanedQueue, laned_queue
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.common.queue.sqs import SqsQueue

VISIBILITY = 30


def _msg(priority: str | None, body: str) -> OutgoingMessage:
    return OutgoingMessage(body=body, attributes={"priority": priority} if priority else {})


def _new_sqs_queue(endpoint: str, name: str) -> str:
    client = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
    url: str = client.create_queue(QueueName=f"{name}-{secrets.token_hex(4)}")["QueueUrl"]
    return url


def _pg_names() -> dict[Priority, str]:
    base = f"lanes-{secrets.token_hex(5)}"
    return {p: f"{base}-{p.value}" for p in Priority}


Lanes = tuple[LanedQueue, dict[Priority, Queue]]


@pytest.fixture(params=["postgres", "sqs"])
def new_laned(request: pytest.FixtureRequest) -> Lanes:
    """A laned queue over three separate lanes, plus a direct handle on each lane."""
    if request.param == "postgres":
        engine: AsyncEngine = request.getfixturevalue("engine")
        lanes: dict[Priority, Queue] = {
            p: PostgresQueue(engine, name, visibility_timeout=VISIBILITY, poll_interval=0.05)
            for p, name in _pg_names().items()
        }
        queue = laned_queue(lanes)
        assert isinstance(queue, TransactionalLanedQueue)
    else:
        endpoint: str = request.getfixturevalue("moto_endpoint")
        settings = QueueSettings(
            backend="sqs",
            sqs_queue_url=_new_sqs_queue(endpoint, "lane-normal"),
            sqs_queue_url_high=_new_sqs_queue(endpoint, "lane-high"),
            sqs_queue_url_low=_new_sqs_queue(endpoint, "lane-low"),
            sqs_endpoint_url=endpoint,
            visibility_timeout_seconds=VISIBILITY,
        )
        queue = create_queue(settings, engine=None)  # type: ignore[arg-type]  # SQS needs no engine
        assert not isinstance(queue, TransactionalLanedQueue)
        assert MESSAGING_SYSTEMS[queue.backend] == "aws_sqs"
        lanes = {
            p: SqsQueue(url, region="us-east-1", endpoint_url=endpoint, visibility_timeout=VISIBILITY)
            for p, url in [
                (Priority.HIGH, settings.sqs_queue_url_high),
                (Priority.NORMAL, settings.sqs_queue_url),
                (Priority.LOW, settings.sqs_queue_url_low),
            ]
        }
    return queue, lanes


@pytest.fixture
async def laned(new_laned: Lanes) -> AsyncIterator[Lanes]:
    queue, lanes = new_laned
    yield queue, lanes
    await queue.close()
    for lane in lanes.values():
        await lane.close()


async def _receive_all(queue: Queue, expected: int) -> list[ReceivedMessage]:
    got: list[ReceivedMessage] = []

    async def more() -> int:
        got.extend(await queue.receive(10, 0.2))
        return len(got)

    await eventually(more, lambda n: n >= expected, what=f"{expected} messages")
    return got


async def test_messages_travel_in_the_lane_of_their_priority(
    laned: Lanes,
) -> None:
    queue, lanes = laned
    messages = [
        _msg("low", "l1"),
        _msg("high", "h1"),
        _msg(None, "n1"),
        _msg("urgent", "n2"),
        _msg("high", "h2"),
    ]
    assert await queue.send_batch(messages) == []

    depths = await queue.lane_depths()
    assert {key: d.visible for key, d in depths.items()} == {"high": 2, "normal": 2, "low": 1}
    assert (await queue.depth()).visible == 5

    # Each lane, read directly, holds exactly its own messages (then they go back for the laned read).
    for priority, bodies in [(Priority.HIGH, {"h1", "h2"}), (Priority.LOW, {"l1"})]:
        direct = await _receive_all(lanes[priority], len(bodies))
        assert {m.body for m in direct} == bodies
        for m in direct:
            await lanes[priority].change_visibility(m.receipt, 0)

    got = await _receive_all(queue, 5)
    assert sorted(m.body for m in got) == ["h1", "h2", "l1", "n1", "n2"]
    by_lane = Counter(m.receipt.split("|", 1)[0] for m in got)
    assert by_lane == {"high": 2, "normal": 2, "low": 1}
    for m in got:
        if m.body.startswith("h"):
            assert m.receipt.startswith("high|")

    # Deletes and visibility changes reach the lane each message came from.
    l1 = next(m for m in got if m.body == "l1")
    await queue.change_visibility(l1.receipt, 0)
    await queue.delete([m.receipt for m in got if m is not l1])
    again = await _receive_all(queue, 1)
    assert [m.body for m in again] == ["l1"]
    await queue.delete([again[0].receipt])

    async def total() -> int:
        return (await queue.depth()).total

    await eventually(total, lambda n: n == 0, what="every lane to be empty")


async def test_high_is_served_first_from_a_mixed_backlog(
    laned: Lanes,
) -> None:
    queue, _ = laned
    await queue.send_batch([_msg("low", f"l{i}") for i in range(10)])
    await queue.send_batch([_msg("high", f"h{i}") for i in range(5)])
    first = await _receive_all(queue, 5)
    # Whoever's turn it is, a batch fills up with high before low (priority order).
    assert {m.body for m in first[:5]} == {f"h{i}" for i in range(5)}


async def test_sqs_without_lane_urls_is_one_collapsed_queue(moto_endpoint: str) -> None:
    url = _new_sqs_queue(moto_endpoint, "collapsed")
    queue = create_queue(
        QueueSettings(backend="sqs", sqs_queue_url=url, sqs_endpoint_url=moto_endpoint),
        engine=None,  # type: ignore[arg-type]
        weights={"high": 6, "normal": 3, "low": 1},
    )
    try:
        assert queue.lane_keys == ["high"]
        assert [queue.lane_for(p) for p in Priority] == ["high", "high", "high"]
        await queue.send_batch([_msg("low", "a"), _msg("high", "b"), _msg("normal", "c")])
        got = await _receive_all(queue, 3)
        assert sorted(m.body for m in got) == ["a", "b", "c"]
        await queue.delete([m.receipt for m in got])
        assert (await queue.depth()).visible == 0
    finally:
        await queue.close()


async def test_only_a_high_lane_url_gives_two_lanes(moto_endpoint: str) -> None:
    settings = QueueSettings(
        backend="sqs",
        sqs_queue_url=_new_sqs_queue(moto_endpoint, "two-normal"),
        sqs_queue_url_high=_new_sqs_queue(moto_endpoint, "two-high"),
        sqs_endpoint_url=moto_endpoint,
    )
    queue = create_queue(settings, engine=None)  # type: ignore[arg-type]
    try:
        assert queue.lane_keys == ["high", "normal"]
        assert queue.lane_for(Priority.LOW) == "normal"
    finally:
        await queue.close()


async def test_postgres_lanes_use_the_lane_names_and_join_the_callers_transaction(
    engine: AsyncEngine,
) -> None:
    queue = create_queue(QueueSettings(), engine)
    assert isinstance(queue, TransactionalLanedQueue)
    assert queue.name == PG_LANE_NAMES[Priority.NORMAL] == "wa-notify-send"
    await queue.close()

    names = _pg_names()
    own = laned_queue({p: PostgresQueue(engine, n, visibility_timeout=VISIBILITY) for p, n in names.items()})
    assert isinstance(own, TransactionalLanedQueue)
    body = secrets.token_hex(6)

    def count_in(conn_rows: list[tuple[str, int]]) -> Callable[[Priority], int]:
        return lambda p: dict(conn_rows).get(names[p], 0)

    async with engine.begin() as conn:
        await own.send_batch_in(conn, [_msg("high", body), _msg("low", body), _msg("low", body)])
    async with engine.begin() as conn:
        await own.send_batch_in(conn, [_msg("high", body)])
        await conn.rollback()
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT queue, count(*) FROM queue_messages WHERE body = :b GROUP BY queue"), {"b": body}
            )
        ).all()
    count = count_in([(r[0], r[1]) for r in rows])
    assert (count(Priority.HIGH), count(Priority.NORMAL), count(Priority.LOW)) == (1, 0, 2)
