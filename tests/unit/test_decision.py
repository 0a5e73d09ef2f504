"""The one decision after a refused send, as a table: every error code of the reference (§3.3),
at the first, a middle and the last attempt, for each priority's attempts. The worker (Meta's
answer to a send) and the receiver (Meta's later ``failed``) both carry out what it returns."""

from __future__ import annotations

import random

import pytest

from wanotify.common.domain.decision import PAUSE_RECHECK, Fail, PauseSender, Retry, SendError, decide
from wanotify.common.meta.errors import ErrorClass, classify
from wanotify.common.retry import retry_delay

RETRY, PAUSE, FAIL = "retry", "pause", "fail"
# The reference's "Retry?" column, as we act on it: retry with backoff, pause the sender (the
# number or the account is unusable until someone acts), or fail for good.
REFERENCE: dict[int, str] = {
    0: PAUSE, 1: RETRY, 2: RETRY, 3: FAIL, 4: RETRY, 10: PAUSE, 33: PAUSE, 80007: RETRY,
    100: FAIL, 190: PAUSE, 200: PAUSE, 250: PAUSE, 299: PAUSE, 368: PAUSE,
    130403: FAIL, 130429: RETRY, 130472: FAIL, 130497: FAIL,
    131000: RETRY, 131005: PAUSE, 131008: FAIL, 131009: FAIL, 131016: RETRY, 131021: FAIL,
    131026: FAIL, 131030: FAIL, 131031: PAUSE, 131037: PAUSE, 131042: PAUSE, 131045: PAUSE,
    131047: FAIL, 131048: PAUSE, 131049: RETRY, 131050: FAIL, 131051: FAIL, 131052: FAIL,
    131053: FAIL, 131056: RETRY, 131057: RETRY, 131063: FAIL, 131064: PAUSE,
    132000: FAIL, 132001: FAIL, 132005: FAIL, 132007: FAIL, 132012: FAIL, 132015: FAIL,
    132016: FAIL, 132068: FAIL, 132069: RETRY,
    133000: FAIL, 133004: RETRY, 133005: PAUSE, 133008: PAUSE, 133009: PAUSE, 133010: PAUSE,
    133015: PAUSE, 133016: PAUSE, 135000: FAIL,
    999999: FAIL,  # a code the reference does not know: never retried blindly
}  # fmt: skip
# Attempts per priority, as a tenant policy might set them.
ATTEMPTS = {"high": 8, "normal": 5, "low": 2}
CASES = [
    (code, priority, attempt)
    for code in REFERENCE
    for priority, attempts in ATTEMPTS.items()
    for attempt in sorted({1, (attempts + 1) // 2, attempts})
]


@pytest.mark.parametrize(("code", "priority", "attempt"), CASES)
def test_the_decision_for_every_code_attempt_and_priority(code: int, priority: str, attempt: int) -> None:
    max_attempts = ATTEMPTS[priority]
    error = SendError(classify(code), meta_code=code)
    decision = decide(error, attempt, max_attempts, rng=random.Random(attempt))
    expected = REFERENCE[code]
    if expected == PAUSE:
        assert decision == PauseSender(PAUSE_RECHECK)  # whatever the attempt: the sender is at fault
    elif expected == FAIL:
        assert decision == Fail(retryable=False, exhausted=False)
    elif attempt < max_attempts:
        delay = retry_delay(error.error_class, attempt, code=code, rng=random.Random(attempt))
        assert decision == Retry(delay)
    else:
        assert decision == Fail(retryable=True, exhausted=True)


def test_a_transport_failure_is_retried_like_a_transient_error() -> None:
    assert isinstance(decide(SendError(ErrorClass.SOON), 1, 5), Retry)
    assert decide(SendError(ErrorClass.SOON), 5, 5) == Fail(retryable=True, exhausted=True)


@pytest.mark.parametrize(
    ("code", "attempt", "low", "high"),
    [
        (130429, 1, 0.75, 1.25),  # throughput: about a second, doubling
        (130429, 10, 45.0, 60.0),  # capped near a minute
        (131056, 2, 3.0, 5.0),  # pair rate: Meta's 4^n seconds
        (131049, 1, 86400.0, 86400.0),  # per-user marketing cap: 24 h
        (4, 1, 225.0, 375.0),  # app rate limit: minutes
    ],
)
def test_retry_delays_follow_metas_guidance(code: int, attempt: int, low: float, high: float) -> None:
    decision = decide(SendError(classify(code), meta_code=code), attempt, 20, rng=random.Random(1))
    assert isinstance(decision, Retry)
    assert low <= decision.delay.total_seconds() <= high
