"""The notification state machine.

``scheduled → queued → processing → sent → delivered → read``; ``rate_limited`` waits for a slot
and goes back to ``queued``; ``failed`` is terminal. Meta's statuses only ever move a notification
forward: a late or duplicate status is recorded in the delivery log and changes nothing else.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RATE_LIMITED = "rate_limited"
    PROCESSING = "processing"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    CANCELED = "canceled"  # by the client, before it was sent
    EXPIRED = "expired"  # its expires_at passed before it could be sent


# Position on the forward path; statuses on the same rank are alternatives, not progress.
RANK: dict[Status, int] = {
    Status.SCHEDULED: 0,
    Status.QUEUED: 1,
    Status.RATE_LIMITED: 1,
    Status.PROCESSING: 2,
    Status.SENT: 3,
    Status.DELIVERED: 4,
    Status.READ: 5,
}

TERMINAL: frozenset[Status] = frozenset({Status.READ, Status.FAILED, Status.CANCELED, Status.EXPIRED})

# Never handed to Meta: nothing Meta reports can change these.
UNSENT_FINAL: frozenset[Status] = frozenset({Status.CANCELED, Status.EXPIRED})

# Statuses a client may still cancel (nothing has been handed to Meta yet).
CANCELABLE: frozenset[Status] = frozenset({Status.SCHEDULED, Status.QUEUED, Status.RATE_LIMITED})

# Statuses a worker may claim (a `processing` row whose claim expired is claimable too).
CLAIMABLE: frozenset[Status] = frozenset({Status.QUEUED, Status.RATE_LIMITED})

# What Meta may report about a send whose own record we lost (a worker killed after Meta accepted
# it, its claim since requeued): the report moves a waiting notification forward.
_REPORTED = (Status.SENT, Status.DELIVERED, Status.READ)

# Every move a notification may make, and nothing else. ``processing → delivered|read`` happens
# when Meta's status webhook overtakes the worker's own record of the send; ``sent → queued`` and
# ``sent → rate_limited`` are an asynchronous failure sent back for a new attempt; ``failed → queued``
# is a replay; ``processing → queued`` a retry or a claim that lapsed.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SCHEDULED: frozenset({Status.QUEUED, Status.CANCELED, Status.EXPIRED, Status.FAILED}),
    Status.QUEUED: frozenset({Status.PROCESSING, Status.CANCELED, Status.EXPIRED, Status.FAILED, *_REPORTED}),
    Status.RATE_LIMITED: frozenset(
        {Status.PROCESSING, Status.CANCELED, Status.EXPIRED, Status.FAILED, *_REPORTED}
    ),
    Status.PROCESSING: frozenset(
        {
            Status.PROCESSING,  # a lapsed claim, taken over by another worker
            Status.SENT,
            Status.DELIVERED,
            Status.READ,
            Status.FAILED,
            Status.QUEUED,
            Status.RATE_LIMITED,
            Status.EXPIRED,
        }
    ),
    Status.SENT: frozenset(
        {Status.DELIVERED, Status.READ, Status.FAILED, Status.QUEUED, Status.RATE_LIMITED}
    ),
    Status.DELIVERED: frozenset({Status.READ}),
    Status.READ: frozenset(),
    Status.FAILED: frozenset({Status.QUEUED}),
    Status.CANCELED: frozenset(),
    Status.EXPIRED: frozenset(),
}


class IllegalTransition(ValueError):
    """A move the state machine does not have: a bug in the caller, never a client's input."""


def check_transition(sources: frozenset[Status] | set[Status] | tuple[Status, ...], to: Status) -> None:
    """Raise :class:`IllegalTransition` unless every status in ``sources`` may move to ``to``."""
    illegal = sorted(s.value for s in sources if to not in TRANSITIONS[s])
    if illegal or not sources:
        raise IllegalTransition(f"{', '.join(illegal) or '(nothing)'} → {to.value} is not a transition")


# Statuses Meta reports in status webhooks that we track.
META_STATUSES: frozenset[str] = frozenset({"sent", "delivered", "read", "failed"})


def meta_status_effect(current: Status, reported: str) -> Status | None:
    """The status a notification moves to when Meta reports ``reported``, or None to stay.

    ``failed`` is accepted only before delivery: a failure reported after `delivered` or `read`
    contradicts what Meta already told us, so it is logged and ignored.
    """
    if current is Status.FAILED or current in UNSENT_FINAL or current is Status.SCHEDULED:
        return None  # a scheduled notification was never handed to Meta: the report is not about it
    if reported == "failed":
        return Status.FAILED if RANK[current] <= RANK[Status.SENT] else None
    target = Status(reported)
    if RANK[target] > RANK[current]:
        return target
    return None
