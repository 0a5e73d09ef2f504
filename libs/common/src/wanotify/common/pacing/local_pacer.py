"""The pacing algorithm in one process: the fallback while Redis is unavailable.

It mirrors ``script.lua`` step by step (the equivalence test drives both with the same requests);
change both together.
"""

from __future__ import annotations

import heapq
import math

from wanotify.common.pacing.model import (
    DAY_SECONDS,
    GRID_SECONDS,
    HOLD_GRACE_SECONDS,
    HOLD_KEEP_SECONDS,
    HOUR_SECONDS,
    PRUNE_EVERY_SECONDS,
    Limits,
    PaceRequest,
    slots_per_bucket,
)


def _window_earliest(scores: dict[str, float], limit: int, window: float, now: float) -> float:
    """The earliest t >= now with fewer than ``limit`` scores above t - window."""
    if limit <= 0 or len(scores) < limit:
        return now
    kth = heapq.nlargest(limit, scores.values())[-1]
    return max(now, kth + window)


class LocalPacer:
    def __init__(self) -> None:
        self._holds: dict[str, tuple[float, str]] = {}
        self._grid: dict[str, dict[int, int]] = {}
        self._pair: dict[tuple[str, str], float] = {}
        self._anti_spam: dict[tuple[str, str], dict[str, float]] = {}
        self._unique: dict[str, dict[str, float]] = {}
        self._pruned_at = -math.inf

    def acquire(self, request: PaceRequest, limits: Limits, now: float) -> tuple[float, str]:
        """Reserve this notification's slot: (seconds from now, the binding limit)."""
        self._maybe_prune(now)
        held = self._holds.pop(request.notification_id, None)
        if held is not None and held[0] >= now - HOLD_GRACE_SECONDS:
            wait = max(0.0, held[0] - now)
            if wait > limits.max_sleep:
                self._holds[request.notification_id] = held
            return wait, held[1]
        lapsed = held is not None and held[0] >= now - HOLD_KEEP_SECONDS

        anti_spam = self._anti_spam.setdefault((request.tenant_id, request.recipient), {})
        anti_spam.pop(request.notification_id, None)
        for key in [k for k, score in anti_spam.items() if score <= now - DAY_SECONDS]:
            del anti_spam[key]
        t_hour = _window_earliest(anti_spam, limits.per_hour, HOUR_SECONDS, now)
        t_day = _window_earliest(anti_spam, limits.per_day, DAY_SECONDS, now)

        t_unique = now
        unique: dict[str, float] = {}
        if limits.unique_users > 0:
            unique = self._unique.setdefault(request.sender_id, {})
            for key in [k for k, score in unique.items() if score <= now - DAY_SECONDS]:
                del unique[key]
            if request.recipient not in unique:
                t_unique = _window_earliest(unique, limits.unique_users, DAY_SECONDS, now)

        pair_key = (request.sender_id, request.recipient)
        tat = self._pair.get(pair_key)
        if tat is not None and lapsed and limits.pair_burst > 0:
            tat -= limits.pair_interval  # the unused old slot's step
        t_pair = now
        if limits.pair_burst > 0 and tat is not None:
            t_pair = max(now, tat - (limits.pair_burst - 1) * limits.pair_interval)

        slow = max(now, t_pair, t_hour, t_day, t_unique)
        binding = "none"
        if slow > now:
            for name, t in (
                ("pair", t_pair),
                ("anti_spam_hour", t_hour),
                ("anti_spam_day", t_day),
                ("unique_users", t_unique),
            ):
                if t == slow:
                    binding = name
                    break

        slot = slow
        if limits.rate > 0:
            per_bucket = slots_per_bucket(limits.rate)
            grid = self._grid.setdefault(request.sender_id, {})
            bucket = math.floor(slow / GRID_SECONDS)
            while grid.get(bucket, 0) >= per_bucket:
                bucket += 1
            count = grid.get(bucket, 0)
            slot = max(slow, bucket * GRID_SECONDS + count * GRID_SECONDS / per_bucket)
            grid[bucket] = count + 1
            if slot > slow:
                binding = "throughput"

        if limits.pair_burst > 0:
            self._pair[pair_key] = max(tat if tat is not None else slot, slot) + limits.pair_interval
        if limits.per_hour > 0 or limits.per_day > 0:
            anti_spam[request.notification_id] = slot
        if limits.unique_users > 0:
            unique[request.recipient] = max(unique.get(request.recipient, slot), slot)
        wait = slot - now
        if wait > limits.max_sleep:
            self._holds[request.notification_id] = (slot, binding)
        return wait, binding

    def _maybe_prune(self, now: float) -> None:
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        old_bucket = math.floor((now - PRUNE_EVERY_SECONDS) / GRID_SECONDS)
        for grid in self._grid.values():
            for bucket in [b for b in grid if b < old_bucket]:
                del grid[bucket]
        self._holds = {k: v for k, v in self._holds.items() if v[0] >= now - HOLD_KEEP_SECONDS}
        self._pair = {k: tat for k, tat in self._pair.items() if tat > now}
        for scores in (*self._anti_spam.values(), *self._unique.values()):
            for key in [k for k, score in scores.items() if score <= now - DAY_SECONDS]:
                del scores[key]
        self._anti_spam = {k: v for k, v in self._anti_spam.items() if v}
        self._unique = {k: v for k, v in self._unique.items() if v}
        self._grid = {k: v for k, v in self._grid.items() if v}
