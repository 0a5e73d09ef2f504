"""Weighted polling of the priority lanes: shares follow the weights, empty turns pass on, low is
never starved. The lanes here are plain in-memory queues obeying the ``Queue`` protocol."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import pytest

from wanotify.common.domain.priority import Priority
from wanotify.common.queue.base import OutgoingMessage, QueueDepth, QueueError, ReceivedMessage
from wanotify.common.queue.lanes import LanedQueue, WeightedTurns


class ListQueue:
    """The smallest queue: FIFO, no visibility timeout (receive hands a message out once)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.backend = "memory"
        self.items: list[OutgoingMessage] = []
        self.deleted: list[str] = []
        self._seq = 0

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        self.items.extend(messages)
        return []

    async def receive(self, max_messages: int, wait_seconds: float) -> list[ReceivedMessage]:
        taken, self.items = self.items[:max_messages], self.items[max_messages:]
        out = []
        for m in taken:
            self._seq += 1
            out.append(ReceivedMessage(str(self._seq), m.body, m.attributes, f"r{self._seq}", 1))
        return out

    async def delete(self, receipts: Sequence[str]) -> None:
        self.deleted.extend(receipts)

    async def change_visibility(self, receipt: str, seconds: int) -> None:
        return None

    async def depth(self) -> QueueDepth:
        return QueueDepth(visible=len(self.items), in_flight=0, delayed=0)

    async def close(self) -> None:
        return None


def _lanes() -> dict[Priority, ListQueue]:
    return {p: ListQueue(p.value) for p in Priority}


def _msg(priority: str, body: str = "x") -> OutgoingMessage:
    return OutgoingMessage(body=body, attributes={"priority": priority})


@pytest.mark.parametrize(
    "weights",
    [
        {"high": 6, "normal": 3, "low": 1},
        {"high": 5, "normal": 2, "low": 2},
        {"high": 1, "normal": 1, "low": 1},
    ],
)
def test_turns_match_the_weights_exactly_per_round(weights: dict[str, int]) -> None:
    turns = WeightedTurns(list(weights.items()))
    total = sum(weights.values())
    for _ in range(7):  # every round of `total` picks holds each lane exactly `weight` times
        assert Counter(turns.next() for _ in range(total)) == Counter(weights)


def test_turns_are_spread_not_bunched() -> None:
    turns = WeightedTurns([("high", 6), ("normal", 3), ("low", 1)])
    picks = [turns.next() for _ in range(100)]
    low_at = [i for i, p in enumerate(picks) if p == "low"]
    assert [b - a for a, b in itertools.pairwise(low_at)] == [10] * 9
    assert max(len(run) for run in "".join(p[0] for p in picks).split("n")) <= 4


def test_invalid_weights_are_refused_and_all_zero_means_equal() -> None:
    with pytest.raises(ValueError, match="negative"):
        WeightedTurns([("high", -1), ("low", 1)])
    turns = WeightedTurns([("high", 0), ("low", 0)])
    assert Counter(turns.next() for _ in range(10)) == {"high": 5, "low": 5}


async def test_under_full_backlog_the_lane_shares_follow_the_weights() -> None:
    lanes = _lanes()
    queue = LanedQueue(lanes, {"high": 6, "normal": 3, "low": 1})
    for p in Priority:
        await queue.send_batch([_msg(p.value) for _ in range(500)])
    served: Counter[str] = Counter()
    for _ in range(200):
        batch = await queue.receive(1, 0)
        served.update(m.attributes["priority"] for m in batch)
    assert served == {"high": 120, "normal": 60, "low": 20}


async def test_an_empty_lanes_turn_passes_on_in_priority_order() -> None:
    lanes = _lanes()
    queue = LanedQueue(lanes, {"high": 6, "normal": 3, "low": 1})
    await queue.send_batch([_msg("low") for _ in range(100)] + [_msg("high") for _ in range(100)])
    served: Counter[str] = Counter()
    for _ in range(50):
        served.update(m.attributes["priority"] for m in await queue.receive(1, 0))
    # Normal is empty: its 3-in-10 turns go to high (first in priority order), low keeps its own.
    assert served == {"high": 45, "low": 5}
    # A batch is filled from the other lanes when the lane whose turn it is runs dry.
    fresh = LanedQueue(_lanes())
    await fresh.send_batch([_msg("high")] * 3 + [_msg("normal")] + [_msg("low")] * 20)
    batch = await fresh.receive(10, 0)
    assert Counter(m.attributes["priority"] for m in batch) == {"high": 3, "normal": 1, "low": 6}


async def test_low_is_never_starved_by_a_high_backlog() -> None:
    lanes = _lanes()
    queue = LanedQueue(lanes, {"high": 50, "normal": 30, "low": 1})
    await queue.send_batch([_msg("high") for _ in range(5000)] + [_msg("low")])
    for _ in range(81):  # one round of the weights
        batch = await queue.receive(1, 0)
        if batch[0].attributes["priority"] == "low":
            break
    else:
        pytest.fail("low was not served within one round of the weights")
    assert len(lanes[Priority.HIGH].items) > 4000


async def test_routing_and_receipts_in_the_callers_numbering() -> None:
    lanes = _lanes()
    queue = LanedQueue(lanes)
    msgs = [_msg("low", "a"), _msg("high", "b"), _msg("bogus", "c"), OutgoingMessage(body="d")]
    assert await queue.send_batch(msgs) == []
    assert [m.body for m in lanes[Priority.HIGH].items] == ["b"]
    assert [m.body for m in lanes[Priority.NORMAL].items] == ["c", "d"]
    assert [m.body for m in lanes[Priority.LOW].items] == ["a"]
    assert (await queue.depth()).visible == 4
    got = await queue.receive(10, 0)
    assert sorted(m.body for m in got) == ["a", "b", "c", "d"]
    await queue.delete([m.receipt for m in got])
    assert len(lanes[Priority.LOW].deleted) == 1 and len(lanes[Priority.NORMAL].deleted) == 2


async def test_lanes_on_one_queue_collapse_and_share_its_weight() -> None:
    shared = ListQueue("shared")
    high = ListQueue("high")
    queue = LanedQueue({Priority.HIGH: high, Priority.NORMAL: shared, Priority.LOW: shared})
    assert queue.lane_keys == ["high", "normal"]
    assert queue.lane_for(Priority.LOW) == "normal"
    await queue.send_batch([_msg("low"), _msg("normal"), _msg("high")])
    assert len(shared.items) == 2 and len(high.items) == 1


class DownQueue(ListQueue):
    """A lane whose backend is unreachable."""

    async def receive(self, max_messages: int, wait_seconds: float) -> list[ReceivedMessage]:
        raise QueueError("unreachable")


async def test_a_lane_that_is_down_does_not_stop_the_others() -> None:
    lanes: dict[Priority, ListQueue] = {**_lanes(), Priority.HIGH: DownQueue("high")}
    queue = LanedQueue(lanes)
    await queue.send_batch([_msg("low", "a")])
    assert [m.body for m in await queue.receive(10, 0)] == ["a"]
    assert await queue.receive(10, 0.01) == []  # long-polls a lane that answers
    everything_down = LanedQueue({p: DownQueue(p.value) for p in Priority})
    with pytest.raises(QueueError, match="every lane"):
        await everything_down.receive(10, 0.01)
