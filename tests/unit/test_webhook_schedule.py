"""The webhook retry schedule: ±20 % jitter, exhaustion, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.webhooks.schedule import (
    DEFAULT_SCHEDULE_SECONDS,
    next_delay,
    parse_retry_after,
    parse_schedule,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_default_schedule() -> None:
    assert DEFAULT_SCHEDULE_SECONDS == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


@pytest.mark.parametrize("attempts_made", range(len(DEFAULT_SCHEDULE_SECONDS)))
@pytest.mark.parametrize(("rand", "factor"), [(0.0, 0.8), (0.5, 1.0), (0.999, 1.1996)])
def test_every_step_of_the_default_schedule(attempts_made: int, rand: float, factor: float) -> None:
    delay = next_delay(DEFAULT_SCHEDULE_SECONDS, attempts_made, rand=rand)
    assert delay == pytest.approx(DEFAULT_SCHEDULE_SECONDS[attempts_made] * factor)


def test_first_attempt_is_immediate_whatever_the_jitter() -> None:
    assert next_delay(DEFAULT_SCHEDULE_SECONDS, 0, rand=0.999) == 0.0


def test_jitter_stays_within_twenty_percent() -> None:
    for i in range(1000):
        delay = next_delay((100.0,), 0, rand=i / 1000)
        assert delay is not None
        assert 80.0 <= delay < 120.0


@pytest.mark.parametrize("attempts_made", [8, 9, 100])
def test_exhausted(attempts_made: int) -> None:
    assert next_delay(DEFAULT_SCHEDULE_SECONDS, attempts_made, rand=0.5) is None
    assert next_delay(DEFAULT_SCHEDULE_SECONDS, attempts_made, rand=0.5, retry_after=10) is None


def test_empty_schedule_is_exhausted_at_once() -> None:
    assert next_delay((), 0, rand=0.5) is None


def test_never_negative() -> None:
    assert next_delay((-10.0,), 0, rand=0.5) == 0.0
    assert next_delay((-10.0,), 0, rand=0.5, retry_after=-5) == 0.0


@pytest.mark.parametrize(
    ("attempts_made", "retry_after", "expected"),
    [
        pytest.param(2, 60.0, 300.0, id="below-the-step"),
        pytest.param(2, 900.0, 900.0, id="above-the-step"),
        pytest.param(1, 3600.0, 3600.0, id="far-above-the-step"),
        pytest.param(2, 100_000.0, 36000.0, id="clamped-to-the-longest-step"),
        pytest.param(0, 0.0, 0.0, id="zero"),
        pytest.param(0, 30.0, 30.0, id="even-before-the-first-attempt"),
        pytest.param(7, 50_000.0, 36000.0, id="last-step-clamped"),
        pytest.param(2, float("inf"), 36000.0, id="infinite"),
        pytest.param(2, float("nan"), 300.0, id="nan-ignored"),
    ],
)
def test_retry_after(attempts_made: int, retry_after: float, expected: float) -> None:
    assert next_delay(DEFAULT_SCHEDULE_SECONDS, attempts_made, rand=0.5, retry_after=retry_after) == expected


def test_retry_after_clamps_the_jittered_last_step() -> None:
    # Without Retry-After the jitter may exceed the longest step; with one the longest step bounds it.
    assert next_delay(DEFAULT_SCHEDULE_SECONDS, 7, rand=0.999) == pytest.approx(36000 * 1.1996)
    assert next_delay(DEFAULT_SCHEDULE_SECONDS, 7, rand=0.999, retry_after=1.0) == 36000.0


@pytest.mark.parametrize("rand", [-0.1, 1.0, 1.5])
def test_rand_out_of_range(rand: float) -> None:
    with pytest.raises(ValueError, match="rand"):
        next_delay(DEFAULT_SCHEDULE_SECONDS, 1, rand=rand)


def test_negative_attempts() -> None:
    with pytest.raises(ValueError, match="attempts_made"):
        next_delay(DEFAULT_SCHEDULE_SECONDS, -1, rand=0.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0,5,300", (0.0, 5.0, 300.0)),
        (" 0 , 5 , 300 ", (0.0, 5.0, 300.0)),
        ("10", (10.0,)),
        ("0.5,1.25", (0.5, 1.25)),
        ("0", (0.0,)),
        ("0, 5, 300, 1800, 7200, 18000, 36000, 36000", DEFAULT_SCHEDULE_SECONDS),
    ],
)
def test_parse_schedule(text: str, expected: tuple[float, ...]) -> None:
    assert parse_schedule(text, "WEBHOOK_RETRY_SCHEDULE_SECONDS") == expected


@pytest.mark.parametrize(
    "text", ["", "  ", ",", "1,,2", "1,", "-1", "5,-0.5", "abc", "1;2", "inf", "nan", "1e999"]
)
def test_parse_schedule_refuses(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_schedule(text, "WEBHOOK_RETRY_SCHEDULE_SECONDS")
    assert caught.value.field == "WEBHOOK_RETRY_SCHEDULE_SECONDS"
    assert "non-negative" in caught.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 30 ", 30.0),
        ("Sun, 01 Mar 2026 12:02:00 GMT", 120.0),
        ("Sun, 01 Mar 2026 12:00:00 GMT", 0.0),
        ("Sun, 01 Mar 2026 13:00:00 +0100", 0.0),
        ("Sun, 01 Mar 2026 12:00:30 -0000", 30.0),
        ("Sunday, 01-Mar-26 12:01:00 GMT", 60.0),
    ],
)
def test_parse_retry_after(value: str, expected: float) -> None:
    assert parse_retry_after(value, now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "soon",
        "-5",
        "1.5",
        "+5",
        "0x10",
        "١٢",
        "Sun, 01 Mar 2026 11:59:00 GMT",
        "Sun, 32 Mar 2026 12:00:00 GMT",
        "9" * 400,
        "9" * 5000,
    ],
)
def test_parse_retry_after_junk_or_past(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_parse_retry_after_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Sun, 01 Mar 2026 12:02:00 GMT", now=naive) == 120.0


def test_parse_retry_after_other_timezone_now() -> None:
    now = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert parse_retry_after("Sun, 01 Mar 2026 12:02:00 GMT", now=now) == 120.0
