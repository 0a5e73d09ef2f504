"""Meta error codes → retry classes, for every code in the reference's §3.3 table (and DESIGN §5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanotify.common.meta.errors import ErrorClass, MetaApiError, classify, is_retryable

SOON = ErrorClass.SOON
THROTTLED = ErrorClass.THROTTLED
PAIR = ErrorClass.PAIR
LONG = ErrorClass.LONG
SENDER = ErrorClass.SENDER
PERMANENT = ErrorClass.PERMANENT

# One row per code of reference §3.3, with the class its "Retry?" column (and DESIGN §5) calls for.
TABLE: dict[int, ErrorClass] = {
    0: SENDER,  # token expired/invalidated: pause the sender, alert
    1: SOON,  # "maybe 1–2× after a few s"
    2: SOON,  # downtime/overload: exponential backoff
    3: PERMANENT,  # capability/permission of the method
    4: LONG,  # app-level Graph call limit: minutes
    10: SENDER,  # permission denied: nothing this sender sends will work
    33: SENDER,  # business phone number deleted
    80007: LONG,  # WABA rate limit: minutes
    100: PERMANENT,  # invalid parameter
    190: SENDER,  # access token expired/invalid
    368: SENDER,  # WABA restricted for policy violation
    130403: PERMANENT,  # business blocked this user
    130429: THROTTLED,  # per-number throughput
    130472: PERMANENT,  # marketing experiment
    130497: PERMANENT,  # country restricted
    131000: SOON,  # "something went wrong": try again
    131005: SENDER,  # access denied
    131008: PERMANENT,  # required parameter missing
    131009: PERMANENT,  # parameter value invalid
    131016: SOON,  # service temporarily unavailable
    131021: PERMANENT,  # recipient = sender
    131026: PERMANENT,  # undeliverable
    131030: PERMANENT,  # recipient not in allowed list
    131031: SENDER,  # account locked
    131037: SENDER,  # 555 number without approved display name
    131042: SENDER,  # billing problem: nothing goes out until fixed
    131045: SENDER,  # registration error
    131047: PERMANENT,  # 24 h window closed — NOT a rate limit; retrying never helps
    131048: SENDER,  # spam rate limit: pause, hours-scale
    131049: LONG,  # per-user marketing limit: ≥ 24 h
    131050: PERMANENT,  # user opted out of marketing
    131051: PERMANENT,  # unsupported message type
    131052: PERMANENT,  # could not download user media
    131053: PERMANENT,  # could not upload/fetch media
    131056: PAIR,  # pair rate limit: 4^n s
    131057: SOON,  # maintenance mode, ≤ 1 min
    131063: PERMANENT,  # marketing templates disabled on this WABA
    131064: SENDER,  # messaging limit for template-classification violations
    132000: PERMANENT,  # parameter count mismatch
    132001: PERMANENT,  # template missing in that language / not approved
    132005: PERMANENT,  # hydrated text too long
    132007: PERMANENT,  # policy violation
    132012: PERMANENT,  # parameter format mismatch
    132015: PERMANENT,  # template paused
    132016: PERMANENT,  # template disabled
    132068: PERMANENT,  # flow blocked
    132069: LONG,  # flow throttled: hour-scale
    133000: PERMANENT,  # previous deregistration failed
    133004: SOON,  # server temporarily unavailable
    **{code: SENDER for code in range(133005, 133010)},  # 2-step PIN problems
    133010: SENDER,  # number not registered
    135000: PERMANENT,  # generic user error
}


@pytest.mark.parametrize(("code", "expected"), sorted(TABLE.items()))
def test_reference_table(code: int, expected: ErrorClass) -> None:
    assert classify(code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (130429, THROTTLED),
        (131056, PAIR),
        (131047, PERMANENT),
        (131049, LONG),
        (190, SENDER),
        (0, SENDER),
        (368, SENDER),
        (131031, SENDER),
        (131000, SOON),
        (131016, SOON),
        (133004, SOON),
        (132001, PERMANENT),
    ],
)
def test_the_codes_that_matter_most(code: int, expected: ErrorClass) -> None:
    assert classify(code) is expected


def test_the_24h_window_is_not_a_rate_limit() -> None:
    assert classify(131047) not in {THROTTLED, PAIR, LONG, SOON}
    assert not is_retryable(classify(131047))


@pytest.mark.parametrize("code", [200, 201, 250, 294, 299])
def test_permission_range_is_sender_level(code: int) -> None:
    assert classify(code) is SENDER


@pytest.mark.parametrize("code", [5, 99, 199, 300, 131999, 999999, -1, 137000])
def test_unknown_codes_are_permanent(code: int) -> None:
    assert classify(code) is PERMANENT


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_every_code_has_a_class(code: int) -> None:
    assert classify(code) in set(ErrorClass)


@pytest.mark.parametrize(
    ("error_class", "retryable"),
    [(SOON, True), (THROTTLED, True), (PAIR, True), (LONG, True), (SENDER, False), (PERMANENT, False)],
)
def test_is_retryable(error_class: ErrorClass, retryable: bool) -> None:
    assert is_retryable(error_class) is retryable


def test_api_error_classifies_by_code_not_http_status() -> None:
    throttled = MetaApiError(130429, "Rate limit hit", http_status=400)
    assert throttled.error_class is THROTTLED
    template = MetaApiError(132001, "Template name does not exist in the translation", http_status=404)
    assert template.error_class is PERMANENT
    assert "130429" in str(throttled)
