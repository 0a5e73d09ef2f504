"""Priority lanes: one queue per priority behind the ``Queue`` contract, served by weighted polling.

Each priority (``high``, ``normal``, ``low``) travels in its own lane: a separate SQS queue, or a
separate queue name in the PostgreSQL table (``PG_LANE_NAMES``). Lanes configured onto the same
underlying queue (SQS without ``SQS_QUEUE_URL_HIGH``/``_LOW``) collapse into one lane.

Weighted polling (``WORKER_PRIORITY_WEIGHTS``, default ``high=6,normal=3,low=1``): every receive
cycle a smooth weighted round-robin (as nginx balances upstreams) names the lane whose turn it is.
That lane is asked first, then the other lanes in priority order fill up the batch, all without
waiting. Only when every lane was empty does the worker wait: on SQS it long-polls the highest lane,
so an idle worker wakes for high work at once (the others are picked up within one wait period); on
PostgreSQL, where waiting is polling anyway, it sweeps every lane each poll interval.

The guarantee: while every lane has a backlog, lane *i* is asked first in ``weight_i / sum`` of
the cycles (6/10, 3/10, 1/10 by default), spread evenly rather than in runs. An empty lane's turn
passes on to the others in priority order, so no capacity idles. Low is never starved: it gets its
own turn once in every ``sum / weight_low`` cycles however much high work is waiting (a weight of
0 gives a lane no turns of its own: it is then served only when the lanes above it are empty).

Receipts carry their lane (``"<lane>|<receipt>"``) so deletes and visibility changes reach the
queue the message came from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.domain.priority import PRIORITY_ORDER, Priority, parse_priority
from wanotify.common.queue.base import OutgoingMessage, Queue, QueueDepth, QueueError, ReceivedMessage

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS: dict[str, int] = {"high": 6, "normal": 3, "low": 1}
_SEPARATOR = "|"
PG_IDLE_POLL_SECONDS = 0.1  # the PostgreSQL queue's own poll interval


@runtime_checkable
class TransactionalQueue(Protocol):
    """A queue that can enqueue inside the caller's database transaction (the PostgreSQL table)."""

    async def send_batch_in(self, conn: AsyncConnection, messages: Sequence[OutgoingMessage]) -> None: ...


class WeightedTurns:
    """Smooth weighted round-robin over lane keys: each pick adds every weight to its lane's
    credit, the lane with the most credit (ties: the earlier key) wins and pays the total."""

    def __init__(self, weights: Sequence[tuple[str, int]]) -> None:
        if not weights:
            raise ValueError("at least one lane is needed")
        if any(w < 0 for _, w in weights):
            raise ValueError("lane weights must not be negative")
        if sum(w for _, w in weights) == 0:
            weights = [(key, 1) for key, _ in weights]
        self._weights = list(weights)
        self._total = sum(w for _, w in self._weights)
        self._credit = {key: 0 for key, _ in self._weights}

    def next(self) -> str:
        best = ""
        for key, weight in self._weights:
            self._credit[key] += weight
            if not best or self._credit[key] > self._credit[best]:
                best = key
        self._credit[best] -= self._total
        return best


class _Lane(msgspec.Struct, frozen=True):
    key: str
    queue: Queue
    priorities: tuple[Priority, ...]


def _lanes_of(queues: Mapping[Priority, Queue]) -> list[_Lane]:
    lanes: list[_Lane] = []
    for priority in PRIORITY_ORDER:
        queue = queues[priority]
        for i, lane in enumerate(lanes):
            if lane.queue is queue:
                lanes[i] = _Lane(lane.key, queue, (*lane.priorities, priority))
                break
        else:
            lanes.append(_Lane(priority.value, queue, (priority,)))
    return lanes


class LanedQueue:
    """One ``Queue`` per priority behind the ``Queue`` protocol (see the module docstring)."""

    def __init__(
        self,
        queues: Mapping[Priority, Queue],
        weights: Mapping[str, int] | None = None,
        *,
        idle_poll: float | None = None,
    ) -> None:
        """``idle_poll``: with lanes that poll rather than long-poll (PostgreSQL), an idle receive sweeps
        every lane at this interval; without it (SQS), it long-polls the highest lane."""
        self._idle_poll = idle_poll
        missing = [p.value for p in PRIORITY_ORDER if p not in queues]
        if missing:
            raise ValueError(f"no queue for lanes {missing}")
        weights = DEFAULT_WEIGHTS if weights is None else weights
        self._lanes = _lanes_of(queues)
        self._by_key = {lane.key: lane for lane in self._lanes}
        self._route = {p: lane for lane in self._lanes for p in lane.priorities}
        self._turns = WeightedTurns(
            [(lane.key, sum(int(weights.get(p.value, 0)) for p in lane.priorities)) for lane in self._lanes]
        )
        self.name = queues[Priority.NORMAL].name
        self.backend = self._lanes[0].queue.backend  # every lane is on the same backend

    @property
    def lane_keys(self) -> list[str]:
        return [lane.key for lane in self._lanes]

    def lane_for(self, priority: Priority) -> str:
        return self._route[priority].key

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        failed: list[int] = []
        errors: list[QueueError] = []
        for lane, indexes in self._split(messages).items():
            try:
                lane_failed = await lane.queue.send_batch([messages[i] for i in indexes])
            except QueueError as exc:
                errors.append(exc)
                failed.extend(indexes)
                continue
            failed.extend(indexes[i] for i in lane_failed)
        if messages and len(failed) == len(messages) and errors:
            raise errors[0]
        return sorted(failed)

    def _split(self, messages: Sequence[OutgoingMessage]) -> dict[_Lane, list[int]]:
        groups: dict[_Lane, list[int]] = {}
        for i, m in enumerate(messages):
            lane = self._route[parse_priority(m.attributes.get("priority", ""))]
            groups.setdefault(lane, []).append(i)
        return groups

    async def receive(self, max_messages: int, wait_seconds: float) -> list[ReceivedMessage]:
        turn = self._by_key[self._turns.next()]
        order = [turn, *(lane for lane in self._lanes if lane is not turn)]
        received, failed = await self._sweep(order, max_messages)
        if not received and len(failed) == len(order):
            raise QueueError("every lane failed to receive")
        if received or wait_seconds <= 0:
            return received
        if self._idle_poll is not None:
            return await self._poll_all(max_messages, wait_seconds)
        # Long-poll the highest lane that answered (a lane that is down must not turn this into a spin).
        top = next(lane for lane in self._lanes if lane.key not in failed)
        try:
            got = await top.queue.receive(max_messages, wait_seconds)
        except QueueError as exc:
            raise QueueError(f"lane {top.key}: {exc}") from exc
        if got:
            return self._wrap(top, got)
        # Work that arrived in another lane during the wait is taken now rather than a cycle later.
        received, _ = await self._sweep([lane for lane in self._lanes if lane is not top], max_messages)
        return received

    async def _poll_all(self, max_messages: int, wait_seconds: float) -> list[ReceivedMessage]:
        """Polling lanes (the PostgreSQL table) are all cheap to ask: sweep every lane each interval,
        so work arriving in any lane (a deferred message coming due, say) is taken at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        interval = self._idle_poll or 0.1
        while loop.time() < deadline:
            await asyncio.sleep(min(interval, max(0.0, deadline - loop.time())))
            received, failed = await self._sweep(self._lanes, max_messages)
            if received:
                return received
            if len(failed) == len(self._lanes):
                raise QueueError("every lane failed to receive")
        return []

    async def _sweep(
        self, lanes: Sequence[_Lane], max_messages: int
    ) -> tuple[list[ReceivedMessage], set[str]]:
        received: list[ReceivedMessage] = []
        failed: set[str] = set()
        for lane in lanes:
            if len(received) >= max_messages:
                break
            try:
                got = await lane.queue.receive(max_messages - len(received), 0)
            except QueueError as exc:
                # Messages already taken from other lanes must still be returned, not dropped.
                failed.add(lane.key)
                log.warning("lane receive failed", extra={"lane": lane.key, "error": str(exc)[:200]})
                continue
            received.extend(self._wrap(lane, got))
        return received, failed

    @staticmethod
    def _wrap(lane: _Lane, messages: list[ReceivedMessage]) -> list[ReceivedMessage]:
        return [msgspec.structs.replace(m, receipt=f"{lane.key}{_SEPARATOR}{m.receipt}") for m in messages]

    def _unwrap(self, receipt: str) -> tuple[_Lane, str]:
        key, sep, inner = receipt.partition(_SEPARATOR)
        lane = self._by_key.get(key)
        if not sep or lane is None:
            raise QueueError(f"receipt of no known lane: {receipt[:40]}")
        return lane, inner

    async def delete(self, receipts: Sequence[str]) -> None:
        groups: dict[str, list[str]] = {}
        errors: list[QueueError] = []
        for receipt in receipts:
            try:
                lane, inner = self._unwrap(receipt)
            except QueueError as exc:
                errors.append(exc)
                continue
            groups.setdefault(lane.key, []).append(inner)
        for key, inner_receipts in groups.items():
            try:
                await self._by_key[key].queue.delete(inner_receipts)
            except QueueError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    async def change_visibility(self, receipt: str, seconds: int) -> None:
        lane, inner = self._unwrap(receipt)
        await lane.queue.change_visibility(inner, seconds)

    async def lane_depths(self) -> dict[str, QueueDepth]:
        """Depth per lane, keyed by the lane's (highest) priority."""
        return {lane.key: await lane.queue.depth() for lane in self._lanes}

    async def depth(self) -> QueueDepth:
        depths = list((await self.lane_depths()).values())
        return QueueDepth(
            visible=sum(d.visible for d in depths),
            in_flight=sum(d.in_flight for d in depths),
            delayed=sum(d.delayed for d in depths),
        )

    async def close(self) -> None:
        for lane in self._lanes:
            await lane.queue.close()


class TransactionalLanedQueue(LanedQueue):
    """Lanes that are all PostgreSQL queues: enqueueing can join the caller's transaction."""

    async def send_batch_in(self, conn: AsyncConnection, messages: Sequence[OutgoingMessage]) -> None:
        for lane, indexes in self._split(messages).items():
            queue = lane.queue
            assert isinstance(queue, TransactionalQueue)
            await queue.send_batch_in(conn, [messages[i] for i in indexes])


def laned_queue(queues: Mapping[Priority, Queue], weights: Mapping[str, int] | None = None) -> LanedQueue:
    """The laned queue, transactional when every lane is."""
    if all(isinstance(q, TransactionalQueue) for q in queues.values()):
        return TransactionalLanedQueue(queues, weights, idle_poll=PG_IDLE_POLL_SECONDS)
    return LanedQueue(queues, weights)
