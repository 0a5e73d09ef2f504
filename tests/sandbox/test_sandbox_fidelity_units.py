"""Unit tests of the fidelity pieces: error table completeness, buckets, knobs, magic numbers, settings."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanotify.sandbox.behaviours import StatusKnobs, apply_behaviour, default_knobs, status_sequence
from wanotify.sandbox.catalog import parse_phone_number
from wanotify.sandbox.errors import ERROR_CODES_HREF, ERROR_TABLE, MetaError, error_info, webhook_error
from wanotify.sandbox.limits import RateLimiter, TokenBucket
from wanotify.sandbox.magic import Magic, magic_of
from wanotify.sandbox.models import Behaviour, PhoneNumber
from wanotify.sandbox.settings import SandboxSettings, load_sandbox_settings
from wanotify.sandbox.state import WINDOW_SECONDS, SandboxState

# Every code of the reference's §3.3 table, with its HTTP status ("—" rows answer 400 when injected).
REFERENCE_CODES: dict[int, int] = {
    0: 401, 1: 400, 2: 503, 3: 500, 4: 400, 10: 403, 33: 400, 80007: 400, 100: 400, 190: 401,
    200: 403, 299: 403, 368: 403, 130403: 400, 130429: 400, 130472: 400, 130497: 403, 131000: 500,
    131005: 403, 131008: 400, 131009: 400, 131016: 500, 131021: 400, 131026: 400, 131030: 400,
    131031: 403, 131037: 400, 131042: 400, 131045: 500, 131047: 400, 131048: 400, 131049: 400,
    131050: 400, 131051: 400, 131052: 400, 131053: 400, 131056: 400, 131057: 500, 131063: 400,
    131064: 400, 132000: 400, 132001: 404, 132005: 400, 132007: 400, 132012: 400, 132015: 400,
    132016: 400, 132068: 400, 132069: 400, 133000: 500, 133004: 503, 133005: 400, 133006: 400,
    133007: 400, 133008: 400, 133009: 400, 133010: 400, 133015: 400, 133016: 400, 135000: 400,
}  # fmt: skip


@pytest.mark.parametrize(("code", "status"), sorted(REFERENCE_CODES.items()))
def test_every_reference_code_has_status_and_title(code: int, status: int) -> None:
    info = error_info(code)
    assert info.http_status == status
    assert info.title and info.title != "Unknown error"
    error = webhook_error(code)
    assert set(error) == {"code", "title", "message", "error_data", "href"}
    assert (error["code"], error["title"], error["href"]) == (code, info.title, ERROR_CODES_HREF)
    assert error["error_data"]["details"]
    assert MetaError(code).message == f"(#{code}) {info.title}"


def test_table_keys_are_all_in_the_reference() -> None:
    assert set(ERROR_TABLE) <= set(REFERENCE_CODES)


def test_rate_limit_messages() -> None:
    assert MetaError(130429).message == "(#130429) Rate limit hit"
    assert MetaError(130429).details == "Cloud API message throughput has been reached."
    assert MetaError(131056).message == "(#131056) (Business Account, Consumer Account) pair rate limit hit"


# --- token buckets -----------------------------------------------------------------------------


def test_token_bucket_burst_and_refill() -> None:
    bucket = TokenBucket(capacity=3, rate=2.0, now=100.0)
    assert [bucket.try_take(100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.try_take(100.4) is False  # 0.8 token
    assert bucket.try_take(100.5) is True  # 1.0 token
    assert bucket.full(110.0)
    assert [bucket.try_take(110.0) for _ in range(4)] == [True, True, True, False]


@given(st.lists(st.floats(min_value=0, max_value=0.5), max_size=60))
def test_token_bucket_never_exceeds_rate(gaps: list[float]) -> None:
    bucket = TokenBucket(capacity=5, rate=10.0, now=0.0)
    now, taken = 0.0, 0
    for gap in gaps:
        now += gap
        taken += bucket.try_take(now)
    assert taken <= 5 + now * 10.0 + 1e-9


def phone(**extra: float) -> PhoneNumber:
    return PhoneNumber("1", "2", "t", "+1 555 000 0001", **extra)  # type: ignore[arg-type]


def test_rate_limiter_throughput_and_pairs() -> None:
    settings = SandboxSettings(
        app_secret="s", default_throughput_mps=2, pair_burst=2, pair_interval_seconds=10
    )
    limiter = RateLimiter(settings)
    limiter.check(phone(), "a", 0.0)
    limiter.check(phone(), "b", 0.0)
    with pytest.raises(MetaError) as throughput:
        limiter.check(phone(), "c", 0.0)
    assert throughput.value.code == 130429
    pairs = RateLimiter(msgspec.structs.replace(settings, default_throughput_mps=1000))
    pairs.check(phone(), "a", 0.0)
    pairs.check(phone(), "a", 0.0)
    with pytest.raises(MetaError) as pair:
        pairs.check(phone(), "a", 9.9)
    assert pair.value.code == 131056
    pairs.check(phone(), "a", 10.0)  # one token per interval
    pairs.check(phone(), "b", 10.0)  # per recipient
    limiter.reset()
    limiter.check(phone(), "a", 10.2)
    # A per-number rate replaces the default.
    fast = phone(throughput_mps=1000.0)
    for i in range(500):
        limiter.check(fast, f"u{i}", 20.0)


# --- knobs -------------------------------------------------------------------------------------


def test_status_sequences() -> None:
    assert status_sequence(StatusKnobs(), failed=False) == ["sent", "delivered", "read"]
    assert status_sequence(StatusKnobs(), failed=True) == ["failed"]
    assert status_sequence(StatusKnobs(skip_delivered=True, order="reversed"), failed=False) == [
        "read",
        "sent",
    ]
    assert status_sequence(StatusKnobs(duplicates=True), failed=True) == ["failed", "failed"]
    assert status_sequence(StatusKnobs(drop_statuses=True, duplicates=True), failed=False) == []
    shuffled = status_sequence(StatusKnobs(order="shuffled"), failed=False, rng=random.Random(1))
    assert sorted(shuffled) == ["delivered", "read", "sent"] and shuffled != ["sent", "delivered", "read"]
    assert status_sequence(StatusKnobs(order="shuffled"), failed=True) == ["failed"]


def test_knob_layers() -> None:
    settings = SandboxSettings(app_secret="s", status_duplicates=True, status_order="reversed")
    base = default_knobs(settings)
    assert base == StatusKnobs(duplicates=True, order="reversed")
    assert apply_behaviour(base, None) == base
    assert apply_behaviour(base, Behaviour(wa_id="1", order="normal", delay_seconds=2)) == StatusKnobs(
        duplicates=True, order="normal", delay_seconds=2
    )


# --- magic numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wa_id", "expected"),
    [
        ("155501000100", Magic(sync_error=100)),
        ("155501000000", Magic(sync_error=0)),
        ("155501131047", Magic(sync_error=131047)),
        ("155502131049", Magic(async_failure=131049)),
        ("155502000004", Magic(async_failure=4)),
        ("155503000001", Magic(behaviour=Behaviour(wa_id="", duplicates=True))),
        ("155503000004", Magic(behaviour=Behaviour(wa_id="", drop_statuses=True))),
        ("155504001500", Magic(behaviour=Behaviour(wa_id="155504001500", delay_seconds=1.5))),
        ("155503000099", None),
        ("155505000001", None),
        ("15550100010", None),
        ("1555010001000", None),
        ("15550301004", None),
    ],
)
def test_magic_of(wa_id: str, expected: Magic | None) -> None:
    assert magic_of(wa_id) == expected


@given(st.integers(min_value=0, max_value=999_999), st.sampled_from(["01", "02"]))
def test_every_code_is_expressible(code: int, family: str) -> None:
    wa_id = f"1555{family}{code:06d}"
    assert len(wa_id) <= 15
    found = magic_of(wa_id)
    assert found is not None
    assert (found.sync_error if family == "01" else found.async_failure) == code


# --- messaging limit, phone numbers, settings -----------------------------------------------------


def test_reach_user_counts_unique_users_for_24_hours() -> None:
    state = SandboxState()
    assert state.reach_user("w", "a", 0.0, 2)
    assert state.reach_user("w", "b", 1.0, 2)
    assert state.reach_user("w", "a", 2.0, 2)
    assert not state.reach_user("w", "c", 3.0, 2)
    assert state.reach_user("other", "c", 3.0, 2)
    assert state.reach_user("w", "c", WINDOW_SECONDS + 0.5, 2)  # "a" has aged out
    assert state.reach_user("w", "z", 0.0, None)


def test_parse_phone_number_limits() -> None:
    base = {"phone_number_id": "1", "waba_id": "2", "access_token": "t", "display_phone_number": "+1"}
    assert parse_phone_number(base).throughput_mps is None
    parsed = parse_phone_number({**base, "throughput_mps": 20, "messaging_limit": 250})
    assert (parsed.throughput_mps, parsed.messaging_limit) == (20.0, 250)
    for bad in (
        {"throughput_mps": 0},
        {"throughput_mps": "x"},
        {"messaging_limit": 0},
        {"messaging_limit": 1.5},
    ):
        with pytest.raises(ValueError, match="phone number"):
            parse_phone_number({**base, **bad})


def test_fidelity_settings_defaults_and_env() -> None:
    defaults = load_sandbox_settings({"META_APP_SECRET": "s"})
    assert (defaults.default_throughput_mps, defaults.throughput_burst_seconds) == (80.0, 1.0)
    assert (defaults.pair_burst, defaults.pair_interval_seconds) == (45, 6.0)
    assert defaults.messaging_limit_error_code == 131048
    assert default_knobs(defaults) == StatusKnobs()
    settings = load_sandbox_settings(
        {
            "META_APP_SECRET": "s",
            "SANDBOX_DEFAULT_THROUGHPUT_MPS": "20",
            "SANDBOX_THROUGHPUT_BURST_SECONDS": "0.5",
            "SANDBOX_PAIR_BURST": "3",
            "SANDBOX_PAIR_INTERVAL_SECONDS": "0.5",
            "SANDBOX_MESSAGING_LIMIT_ERROR_CODE": "131064",
            "SANDBOX_STATUS_DUPLICATES": "true",
            "SANDBOX_STATUS_ORDER": "Shuffled",
            "SANDBOX_SKIP_DELIVERED": "1",
            "SANDBOX_STATUS_DELAY_SECONDS": "2.5",
            "SANDBOX_DROP_STATUSES": "no",
        }
    )
    assert (settings.default_throughput_mps, settings.throughput_burst_seconds) == (20.0, 0.5)
    assert (settings.pair_burst, settings.pair_interval_seconds) == (3, 0.5)
    assert settings.messaging_limit_error_code == 131064
    assert default_knobs(settings) == StatusKnobs(
        duplicates=True, order="shuffled", skip_delivered=True, delay_seconds=2.5, drop_statuses=False
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SANDBOX_DEFAULT_THROUGHPUT_MPS", "0"),
        ("SANDBOX_DEFAULT_THROUGHPUT_MPS", "fast"),
        ("SANDBOX_PAIR_BURST", "0"),
        ("SANDBOX_PAIR_INTERVAL_SECONDS", "-1"),
        ("SANDBOX_STATUS_DUPLICATES", "maybe"),
        ("SANDBOX_STATUS_ORDER", "sideways"),
        ("SANDBOX_STATUS_DELAY_SECONDS", "-2"),
    ],
)
def test_fidelity_settings_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        load_sandbox_settings({"META_APP_SECRET": "s", name: value})
