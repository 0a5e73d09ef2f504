"""The notification state machine as driven by Meta's status webhooks (DESIGN §2.3, reference §5.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanotify.common.domain.status import (
    CANCELABLE,
    CLAIMABLE,
    TRANSITIONS,
    IllegalTransition,
    Status,
    check_transition,
    meta_status_effect,
)

# Our own model of progress, independent of the module's RANK table.
PROGRESS = {"sent": 1, "delivered": 2, "read": 3}
META = ["sent", "delivered", "read", "failed"]


def fold(start: Status, reported: list[str]) -> list[Status]:
    """Apply each reported status in order; returns the status after every step."""
    current = start
    trail = []
    for r in reported:
        moved = meta_status_effect(current, r)
        if moved is not None:
            current = moved
        trail.append(current)
    return trail


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        (Status.SENT, "delivered", Status.DELIVERED),
        (Status.SENT, "read", Status.READ),
        (Status.DELIVERED, "read", Status.READ),
        (Status.SENT, "failed", Status.FAILED),
        # The webhook can overtake the worker's commit: the row is still `processing`.
        (Status.PROCESSING, "sent", Status.SENT),
        (Status.PROCESSING, "delivered", Status.DELIVERED),
        (Status.PROCESSING, "failed", Status.FAILED),
    ],
)
def test_forward_moves(current: Status, reported: str, expected: Status) -> None:
    assert meta_status_effect(current, reported) is expected


@pytest.mark.parametrize(
    ("current", "reported"),
    [
        (Status.SENT, "sent"),  # duplicate
        (Status.DELIVERED, "delivered"),  # duplicate
        (Status.READ, "read"),  # duplicate
        (Status.DELIVERED, "sent"),  # late arrival
        (Status.READ, "sent"),
        (Status.READ, "delivered"),  # `delivered` twice after `read` (reference §5.4)
    ],
)
def test_never_backwards_nor_sideways(current: Status, reported: str) -> None:
    assert meta_status_effect(current, reported) is None


@pytest.mark.parametrize("reported", META)
def test_failed_is_terminal(reported: str) -> None:
    assert meta_status_effect(Status.FAILED, reported) is None


@pytest.mark.parametrize("current", [Status.DELIVERED, Status.READ])
def test_failed_after_delivery_is_ignored(current: Status) -> None:
    assert meta_status_effect(current, "failed") is None


@given(st.lists(st.sampled_from(META), max_size=12))
def test_fold_from_sent_is_monotonic(reported: list[str]) -> None:
    trail = fold(Status.SENT, reported)

    # Expected, computed from the rules rather than from the function: walk the sequence and note
    # whether a `failed` arrived while the notification was still only `sent`.
    best = "sent"
    failed = False
    for r in reported:
        if failed:
            continue
        if r == "failed":
            failed = best == "sent"
            continue
        if PROGRESS[r] > PROGRESS[best]:
            best = r
    expected = Status.FAILED if failed else Status(best)
    final = trail[-1] if trail else Status.SENT
    assert final is expected

    # Step by step: the rank never decreases, and once failed the status stays failed.
    previous = Status.SENT
    for step in trail:
        if previous is Status.FAILED:
            assert step is Status.FAILED
        elif step is not Status.FAILED:
            assert PROGRESS[step.value] >= PROGRESS[previous.value]
        else:
            assert previous is Status.SENT
        previous = step


@given(st.permutations(["sent", "delivered", "read"]), st.lists(st.sampled_from(["sent", "delivered"])))
def test_any_order_of_the_three_ends_read(order: list[str], noise: list[str]) -> None:
    assert fold(Status.SENT, [*order, *noise])[-1] is Status.READ


# --- the transition table ------------------------------------------------------------------


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("reported", META)
def test_every_move_a_meta_status_makes_is_a_transition(current: Status, reported: str) -> None:
    moved = meta_status_effect(current, reported)
    if moved is not None:
        check_transition((current,), moved)


@pytest.mark.parametrize("final", [Status.READ, Status.CANCELED, Status.EXPIRED])
def test_nothing_leaves_a_final_status_but_a_replay_of_a_failure(final: Status) -> None:
    assert TRANSITIONS[final] == frozenset()
    assert TRANSITIONS[Status.FAILED] == frozenset({Status.QUEUED})


@pytest.mark.parametrize(
    ("sources", "to"),
    [
        ((Status.READ,), Status.QUEUED),
        ((Status.DELIVERED,), Status.SENT),  # backwards
        ((Status.SENT,), Status.CANCELED),  # already handed to Meta
        ((Status.QUEUED, Status.READ), Status.EXPIRED),  # one bad source is enough
        ((), Status.QUEUED),
    ],
)
def test_a_move_the_machine_lacks_is_refused(sources: tuple[Status, ...], to: Status) -> None:
    with pytest.raises(IllegalTransition, match=to.value):
        check_transition(sources, to)


def test_cancel_and_claim_leave_only_statuses_that_allow_them() -> None:
    for s in CANCELABLE:
        check_transition((s,), Status.CANCELED)
    for s in CLAIMABLE:
        check_transition((s,), Status.PROCESSING)
