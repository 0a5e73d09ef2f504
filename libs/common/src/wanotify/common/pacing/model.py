"""The pacer's request and answer, and the constants both pacer implementations share."""

from __future__ import annotations

from typing import Literal

import msgspec

Binding = Literal["none", "throughput", "pair", "anti_spam_hour", "anti_spam_day", "unique_users"]

GRID_SECONDS = 0.25
HOUR_SECONDS = 3600.0
DAY_SECONDS = 86400.0
HOLD_GRACE_SECONDS = 0.5
HOLD_KEEP_SECONDS = 3600.0  # a hold lapsed longer ago than this is forgotten
PRUNE_EVERY_SECONDS = 60.0


class PaceRequest(msgspec.Struct, frozen=True):
    notification_id: str
    tenant_id: str
    sender_id: str
    recipient: str
    throughput_mps: float
    anti_spam_per_hour: int
    anti_spam_per_day: int
    unique_user_limit: int | None


class PaceDecision(msgspec.Struct, frozen=True):
    wait: float
    binding: str
    local: bool


class Limits(msgspec.Struct, frozen=True):
    """The effective limits of one request (after the fallback share); 0 = off."""

    rate: float
    pair_burst: int
    pair_interval: float
    per_hour: int
    per_day: int
    unique_users: int
    max_sleep: float

    @classmethod
    def of(
        cls, request: PaceRequest, pair_burst: int, pair_interval: float, max_sleep: float, share: float
    ) -> Limits:
        def scaled(limit: int) -> int:
            return 0 if limit <= 0 else max(1, int(limit * share))

        return cls(
            rate=max(0.0, request.throughput_mps) * share,
            pair_burst=scaled(pair_burst),
            pair_interval=pair_interval / share,
            per_hour=scaled(request.anti_spam_per_hour),
            per_day=scaled(request.anti_spam_per_day),
            unique_users=scaled(request.unique_user_limit or 0),
            max_sleep=max_sleep,
        )


def slots_per_bucket(rate: float) -> int:
    return max(1, int(rate * GRID_SECONDS))
