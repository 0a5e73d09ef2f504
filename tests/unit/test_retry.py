"""Backoff per retry class: exponential, capped, ±25 % jitter; 131049 waits 24 h (DESIGN §5)."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta

import pytest

from wanotify.common.meta.errors import ErrorClass
from wanotify.common.retry import retry_delay

SAMPLES = 400

# (base, factor, cap) in seconds, as DESIGN §5 and reference §3.3 describe each class.
SCHEDULE = {
    ErrorClass.SOON: (2.0, 2.0, 300.0),
    ErrorClass.THROTTLED: (1.0, 2.0, 60.0),
    ErrorClass.PAIR: (1.0, 4.0, 3600.0),
    ErrorClass.LONG: (300.0, 2.0, 3600.0),
}


def nominal(error_class: ErrorClass, attempt: int) -> float:
    base, factor, cap = SCHEDULE[error_class]
    return min(cap, base * factor ** (attempt - 1))


def samples(error_class: ErrorClass, attempt: int, seed: int = 7, code: int | None = None) -> list[float]:
    rng = random.Random(seed)
    return [retry_delay(error_class, attempt, code=code, rng=rng).total_seconds() for _ in range(SAMPLES)]


@pytest.mark.parametrize("error_class", list(SCHEDULE))
@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 8, 12, 30])
def test_jitter_stays_within_a_quarter_and_under_the_cap(error_class: ErrorClass, attempt: int) -> None:
    cap = SCHEDULE[error_class][2]
    want = nominal(error_class, attempt)
    got = samples(error_class, attempt, seed=attempt)
    assert all(0.75 * want - 1e-9 <= s <= 1.25 * want + 1e-9 for s in got), (min(got), max(got), want)
    assert all(s <= cap + 1e-9 for s in got)


@pytest.mark.parametrize("error_class", list(SCHEDULE))
def test_jitter_is_real_and_centred(error_class: ErrorClass) -> None:
    want = nominal(error_class, 1)  # below every cap
    got = samples(error_class, 1)
    assert min(got) < 0.8 * want
    assert max(got) > 1.2 * want
    assert len(set(got)) > SAMPLES // 2
    assert abs(statistics.fmean(got) - want) < 0.05 * want


@pytest.mark.parametrize(
    ("error_class", "expected"),
    [
        (ErrorClass.SOON, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]),
        (ErrorClass.THROTTLED, [1, 2, 4, 8, 16, 32, 60, 60]),
        (ErrorClass.PAIR, [1, 4, 16, 64, 256, 1024, 3600, 3600]),
        (ErrorClass.LONG, [300, 600, 1200, 2400, 3600, 3600]),
    ],
)
def test_exponential_growth_per_class(error_class: ErrorClass, expected: list[float]) -> None:
    for attempt, want in enumerate(expected, start=1):
        got = samples(error_class, attempt, seed=attempt * 31)
        mean = statistics.fmean(got)
        # The mean of a symmetric jitter sits on the nominal delay (below it once the cap clips).
        assert 0.85 * want <= mean <= 1.05 * want, (attempt, mean, want)
        assert max(got) <= want * 1.25 + 1e-9


def test_pair_rate_follows_powers_of_four() -> None:
    for n in range(1, 6):
        got = samples(ErrorClass.PAIR, n, seed=n)
        assert all(0.75 * 4 ** (n - 1) <= s <= 1.25 * 4 ** (n - 1) for s in got)


def test_throttling_backs_off_in_seconds_not_minutes() -> None:
    assert all(s <= 1.25 for s in samples(ErrorClass.THROTTLED, 1))
    assert all(s <= 60 for s in samples(ErrorClass.THROTTLED, 50))


@pytest.mark.parametrize("attempt", [1, 2, 5, 20])
@pytest.mark.parametrize("error_class", [ErrorClass.LONG, ErrorClass.SOON])
def test_131049_waits_a_fixed_day(attempt: int, error_class: ErrorClass) -> None:
    rng = random.Random(attempt)
    for _ in range(20):
        assert retry_delay(error_class, attempt, code=131049, rng=rng) == timedelta(hours=24)


def test_other_codes_do_not_get_the_fixed_day() -> None:
    assert all(s < 3600 * 1.25 for s in samples(ErrorClass.LONG, 1, code=80007))
    assert all(s <= 3600 for s in samples(ErrorClass.LONG, 40, code=4))


def test_same_seed_same_delays() -> None:
    assert samples(ErrorClass.SOON, 3, seed=99) == samples(ErrorClass.SOON, 3, seed=99)
    assert samples(ErrorClass.SOON, 3, seed=99) != samples(ErrorClass.SOON, 3, seed=100)


def test_delays_are_never_negative() -> None:
    for error_class in SCHEDULE:
        for attempt in (0, 1, 2):
            assert all(s >= 0 for s in samples(error_class, attempt, seed=attempt))
