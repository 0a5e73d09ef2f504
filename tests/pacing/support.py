"""Shared helpers of the pacing tests: a settable clock and request builders."""

from __future__ import annotations

import secrets

from wanotify.common.pacing import PaceRequest

T0 = 1_000_000_000.0  # a multiple of the 0.25 s grid, so throughput slots are exact multiples of 1/rate


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def unique_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


class Requests:
    """Builds requests for one fresh tenant and sender; limits default to off."""

    def __init__(self) -> None:
        self.tenant = unique_id("tenant")
        self.sender = unique_id("sender")

    def make(
        self,
        recipient: str,
        *,
        notification_id: str | None = None,
        mps: float = 0.0,
        per_hour: int = 0,
        per_day: int = 0,
        unique_users: int | None = None,
    ) -> PaceRequest:
        return PaceRequest(
            notification_id=notification_id or unique_id("n"),
            tenant_id=self.tenant,
            sender_id=self.sender,
            recipient=recipient,
            throughput_mps=mps,
            anti_spam_per_hour=per_hour,
            anti_spam_per_day=per_day,
            unique_user_limit=unique_users,
        )
