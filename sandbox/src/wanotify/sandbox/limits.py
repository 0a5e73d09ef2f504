"""Meta's send limits as token buckets: throughput per phone number, pair rate per recipient."""

from __future__ import annotations

from wanotify.sandbox.errors import MetaError
from wanotify.sandbox.models import PhoneNumber
from wanotify.sandbox.settings import SandboxSettings


class TokenBucket:
    """`capacity` tokens, refilled continuously at `rate` tokens per second."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def try_take(self, now: float) -> bool:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def full(self, now: float) -> bool:
        return self.tokens + max(0.0, now - self.updated) * self.rate >= self.capacity


class RateLimiter:
    """Throughput (→ 130429) per phone_number_id and pair rate (→ 131056) per (phone_number_id, wa_id)."""

    def __init__(self, settings: SandboxSettings) -> None:
        self._settings = settings
        self._throughput: dict[str, TokenBucket] = {}
        self._pairs: dict[tuple[str, str], TokenBucket] = {}

    def _throughput_bucket(self, phone: PhoneNumber, now: float) -> TokenBucket:
        settings = self._settings
        mps = phone.throughput_mps or settings.default_throughput_mps
        bucket = self._throughput.get(phone.phone_number_id)
        if bucket is None or bucket.rate != mps:
            # A new or re-configured number starts with a full bucket.
            bucket = TokenBucket(max(1.0, mps * settings.throughput_burst_seconds), mps, now)
            self._throughput[phone.phone_number_id] = bucket
        return bucket

    def check(self, phone: PhoneNumber, wa_id: str, now: float) -> None:
        """Count one outbound send, or raise the limit it hits."""
        if not self._throughput_bucket(phone, now).try_take(now):
            raise MetaError(130429)
        key = (phone.phone_number_id, wa_id)
        pair = self._pairs.get(key)
        if pair is None:
            settings = self._settings
            pair = TokenBucket(float(settings.pair_burst), 1.0 / settings.pair_interval_seconds, now)
            self._pairs[key] = pair
        if not pair.try_take(now):
            raise MetaError(131056)
        if len(self._pairs) > 10_000:
            self._forget_full_pairs(now)

    def _forget_full_pairs(self, now: float) -> None:
        for key in [k for k, bucket in self._pairs.items() if bucket.full(now)]:
            del self._pairs[key]

    def reset(self) -> None:
        self._throughput.clear()
        self._pairs.clear()
