"""A notification's delivery log read as moves: transitions chain `from` → `to`; a row that moved
nothing keeps the status where it was and says what Meta reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from wanotify.common.domain.history import history_of

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _row(k: int, event: str, status: str, source: str, **extra: Any) -> dict[str, Any]:
    return {
        "event": event,
        "status": status,
        "source": source,
        "attempt": extra.pop("attempt", 1),
        "occurred_at": T0 + timedelta(seconds=k),
        **extra,
    }


def test_a_life_chains_each_move_from_the_status_before() -> None:
    rows = [
        _row(0, "accepted", "queued", "api", attempt=0),
        _row(1, "claimed", "processing", "worker"),
        _row(2, "sent", "sent", "worker", whatsapp_message_id="wamid.1"),
        _row(
            3, "meta_status", "delivered", "meta", detail={"current": "sent", "pricing": {"billable": True}}
        ),
        _row(4, "meta_status", "read", "meta", detail={"current": "delivered", "pricing": None}),
    ]
    entries = history_of(rows)
    assert [(e.from_, e.to) for e in entries] == [
        (None, "queued"),
        ("queued", "processing"),
        ("processing", "sent"),
        ("sent", "delivered"),
        ("delivered", "read"),
    ]
    assert all(e.applied for e in entries)
    assert entries[3].pricing == {"billable": True} and entries[3].reported == "delivered"
    assert entries[3].detail is None  # `current` and `pricing` are not repeated in `detail`
    assert entries[2].whatsapp_message_id == "wamid.1" and entries[0].at == "2026-12-05T12:00:00.000Z"


def test_rows_that_moved_nothing_keep_the_status_and_say_what_was_reported() -> None:
    rows = [
        _row(0, "accepted", "queued", "api"),
        _row(1, "claimed", "processing", "worker"),
        _row(2, "sent", "sent", "worker"),
        _row(3, "meta_status", "read", "meta", detail={"current": "sent"}),
        _row(4, "meta_status_ignored", "delivered", "meta", detail={"current": "read"}),  # late
    ]
    late = history_of(rows)[-1]
    assert (late.from_, late.to, late.applied, late.reported) == ("read", "read", False, "delivered")


def test_a_failure_that_was_retried_is_recorded_then_the_retry_moves() -> None:
    rows = [
        _row(0, "sent", "sent", "worker"),
        _row(
            1,
            "meta_status",
            "failed",
            "meta",
            error_code="131049",
            error_message="Not delivered to maintain ecosystem health",
            detail={"current": "sent", "applied": False},
        ),
        _row(2, "retry_scheduled", "queued", "meta", detail={"next_attempt_at": "2026-12-05T12:05:00Z"}),
    ]
    recorded, retried = history_of(rows)[1:]
    assert (recorded.from_, recorded.to, recorded.applied, recorded.reported) == (
        "sent",
        "sent",
        False,
        "failed",
    )
    assert recorded.error is not None and recorded.error.code == "131049"
    assert (retried.from_, retried.to) == ("sent", "queued")
    assert retried.detail == {"next_attempt_at": "2026-12-05T12:05:00Z"}
