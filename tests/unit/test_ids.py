"""Prefixed, time-ordered ids (DESIGN §3)."""

from __future__ import annotations

import re
import time

from hypothesis import given
from hypothesis import strategies as st

from wanotify.common.ids import new_id

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
MAX_MS = (1 << 48) - 1


def test_prefix_and_shape() -> None:
    value = new_id("notif")
    assert value.startswith("notif_")
    assert len(value) == len("notif_") + 26
    assert re.fullmatch(r"notif_[0-9abcdefghjkmnpqrstvwxyz]{26}", value)


def test_other_prefixes() -> None:
    for prefix in ("tnt", "key", "snd", "evt"):
        value = new_id(prefix)
        assert value.split("_", 1) == [prefix, value[len(prefix) + 1 :]]
        assert len(value) == len(prefix) + 27


def test_unique_over_ten_thousand() -> None:
    values = [new_id("notif") for _ in range(10_000)]
    assert len(set(values)) == len(values)


def test_unique_within_one_millisecond() -> None:
    values = {new_id("notif", now_ms=1_700_000_000_000) for _ in range(10_000)}
    assert len(values) == 10_000


def test_time_prefix_decodes_to_the_milliseconds() -> None:
    ms = 1_735_689_600_123
    head = new_id("notif", now_ms=ms)[len("notif_") :][:10]
    decoded = 0
    for ch in head:
        decoded = decoded * 32 + ALPHABET.index(ch)
    assert decoded == ms


def test_default_clock_is_now() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id("notif")
    after = time.time_ns() // 1_000_000
    assert new_id("notif", now_ms=before - 1) < value < new_id("notif", now_ms=after + 1)


def test_increasing_times_sort_in_order() -> None:
    times = [1_700_000_000_000 + i * 7 for i in range(2000)]
    values = [new_id("notif", now_ms=ms) for ms in times]
    assert sorted(values) == values


@given(st.lists(st.integers(min_value=0, max_value=MAX_MS), min_size=2, max_size=50, unique=True))
def test_sort_order_follows_time(times: list[int]) -> None:
    by_time = sorted(times)
    values = [new_id("notif", now_ms=ms) for ms in by_time]
    assert sorted(values) == values
