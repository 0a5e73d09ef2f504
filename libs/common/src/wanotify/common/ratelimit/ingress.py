"""Ingress limits: one global token bucket (requests) and per-tenant windows (notifications).

Every check is one Lua script, so concurrent API processes never grant more than a limit allows:

* The global bucket is GCRA (a token bucket kept as one "theoretical arrival time"): ``rate`` tokens
  per second, at most ``burst`` at once. Every request takes one token, including reads.
* A tenant has three fixed windows aligned to the UTC minute, hour and day. Fixed windows cost one
  counter per window, give every client the same, exact ``X-RateLimit-Reset`` (the window's end,
  e.g. ``14:01:00Z``) and are easy to reason about; the price is that a client may spend two
  windows' worth around a boundary, which is acceptable for quotas of this size. A take grants
  ``min(count, what every window has left)`` (0 when the global bucket refuses) and consumes
  exactly what it grants, so a bulk request gets the items that fit.

When Redis fails (``RedisError``/``OSError``) the same rules run in this process only, so the
limits then hold per API process; Redis is tried again after ``retry_seconds``, so a dead Redis
costs one failed call per back-off, not one per request. One warning is logged per outage.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wanotify.common.config import IngressLimitSettings
from wanotify.common.domain.errors import DomainError
from wanotify.common.domain.tenant import IngressLimits

log = logging.getLogger(__name__)

WINDOWS: tuple[tuple[str, int], ...] = (("minute", 60), ("hour", 3600), ("day", 86400))
MICROS = 1_000_000

# KEYS: global bucket, then the minute, hour and day counters of the tenant.
# ARGV: now (µs), emission interval (µs, 0 = no global limit), burst, count (0 = read only),
#       the three limits (0 = unlimited), each counter's time to live (ms: to the window's end + 1 min).
# Returns: global ok, global remaining, global reset (µs), global retry (µs), granted, used × 3.
SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
local g_ok, g_remaining, g_reset, g_retry = 1, 0, 0, 0
if interval > 0 then
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - burst * interval
  if allow_at > now then
    g_ok, g_reset, g_retry = 0, allow_at, allow_at - now
  else
    redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
    g_remaining = math.floor((now - allow_at) / interval)
    g_reset = new_tat
  end
end
local used = {0, 0, 0}
local granted = count
if g_ok == 0 then granted = 0 end
for i = 1, 3 do
  local limit = tonumber(ARGV[4 + i])
  if limit > 0 then
    used[i] = tonumber(redis.call('GET', KEYS[1 + i]) or '0')
    local left = math.max(limit - used[i], 0)
    if left < granted then granted = left end
  end
end
if granted > 0 then
  for i = 1, 3 do
    if tonumber(ARGV[4 + i]) > 0 then
      used[i] = redis.call('INCRBY', KEYS[1 + i], granted)
      redis.call('PEXPIRE', KEYS[1 + i], ARGV[7 + i])
    end
  end
end
return {g_ok, g_remaining, g_reset, g_retry, granted, used[1], used[2], used[3]}
"""


class RateLimited(DomainError):
    """HTTP 429 with ``Retry-After``."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TenantLimits(msgspec.Struct, frozen=True):
    """Notifications per UTC minute, hour and day; 0 = unlimited."""

    per_minute: int = 0
    per_hour: int = 0
    per_day: int = 0

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.per_minute, self.per_hour, self.per_day)


UNLIMITED = TenantLimits()


def tenant_limits(override: IngressLimits, defaults: IngressLimitSettings) -> TenantLimits:
    """A tenant's policy values where set (0 included), the server defaults elsewhere."""
    return TenantLimits(
        per_minute=defaults.tenant_per_minute if override.per_minute is None else override.per_minute,
        per_hour=defaults.tenant_per_hour if override.per_hour is None else override.per_hour,
        per_day=defaults.tenant_per_day if override.per_day is None else override.per_day,
    )


class Decision(msgspec.Struct, frozen=True):
    """The outcome of one check and what the ``X-RateLimit-*`` headers say.

    ``limit`` is None when nothing limits the request (no headers then). ``refused`` means the
    request gets a 429; ``retry_after`` (whole seconds, at least 1) is set exactly then.
    """

    granted: int
    refused: bool
    limit: int | None
    remaining: int
    reset: datetime
    retry_after: int | None = None
    window: str | None = None


class _Raw(msgspec.Struct):
    """What the script (or the fallback) returns; times in microseconds since the epoch."""

    global_ok: bool
    global_remaining: int
    global_reset: int
    global_retry: int
    granted: int
    used: tuple[int, int, int]


def _ceil_seconds(micros: int) -> int:
    return max(1, math.ceil(micros / MICROS))


def _at(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / MICROS, UTC)


class _LocalState:
    """The script's rules in this process, for while Redis is unreachable."""

    def __init__(self) -> None:
        self.tat = 0
        self.windows: dict[tuple[str, int], tuple[int, int]] = {}

    def run(
        self, tenant_id: str | None, now: int, interval: int, burst: int, count: int, limits: TenantLimits
    ) -> _Raw:
        g_ok, g_remaining, g_reset, g_retry = True, 0, 0, 0
        if interval > 0:
            new_tat = max(self.tat, now) + interval
            allow_at = new_tat - burst * interval
            if allow_at > now:
                g_ok, g_reset, g_retry = False, allow_at, allow_at - now
            else:
                self.tat = new_tat
                g_remaining, g_reset = (now - allow_at) // interval, new_tat
        granted = count if g_ok else 0
        used = [0, 0, 0]
        for i, ((_, size), limit) in enumerate(zip(WINDOWS, limits.as_tuple(), strict=True)):
            if limit > 0 and tenant_id is not None:
                index, spent = self.windows.get((tenant_id, size), (-1, 0))
                used[i] = spent if index == now // MICROS // size else 0
                granted = min(granted, max(limit - used[i], 0))
        if granted > 0 and tenant_id is not None:
            for i, ((_, size), limit) in enumerate(zip(WINDOWS, limits.as_tuple(), strict=True)):
                if limit > 0:
                    used[i] += granted
                    self.windows[(tenant_id, size)] = (now // MICROS // size, used[i])
        return _Raw(g_ok, g_remaining, g_reset, g_retry, granted, (used[0], used[1], used[2]))


class IngressLimiter:
    def __init__(
        self,
        redis: Redis | None,
        settings: IngressLimitSettings,
        *,
        clock: Callable[[], float] = time.time,
        prefix: str = "wanotify:ingress",
        retry_seconds: float = 1.0,
    ) -> None:
        self._redis = redis
        self._script = redis.register_script(SCRIPT) if redis is not None else None
        self._clock = clock
        # One hash tag: a Redis Cluster keeps every key of one script in one slot.
        self._prefix = "{" + prefix + "}"
        self._retry_seconds = retry_seconds
        self._retry_at = 0.0
        self._down = False
        self._local = _LocalState()
        rate = settings.global_per_second
        self._interval = max(1, round(MICROS / rate)) if rate > 0 else 0
        self._burst = max(1, settings.global_burst)

    @property
    def using_redis(self) -> bool:
        """False while the per-process fallback is in use (after a Redis error, until a retry works)."""
        return self._script is not None and not self._down

    async def take(self, tenant_id: str, limits: TenantLimits, count: int) -> Decision:
        """One global token and up to ``count`` units of every tenant window; grants what fits."""
        return await self._check(tenant_id, limits, max(count, 1))

    async def peek(self, tenant_id: str | None, limits: TenantLimits | None = None) -> Decision:
        """One global token; the tenant's windows are only read (for the headers of reads)."""
        return await self._check(tenant_id, limits or UNLIMITED, 0)

    async def _check(self, tenant_id: str | None, limits: TenantLimits, count: int) -> Decision:
        now = int(self._clock() * MICROS)
        raw = await self._redis_run(tenant_id, now, count, limits)
        if raw is None:
            raw = self._local.run(tenant_id, now, self._interval, self._burst, count, limits)
        return self._decide(raw, now, count, limits if tenant_id is not None else UNLIMITED)

    async def _redis_run(
        self, tenant_id: str | None, now: int, count: int, limits: TenantLimits
    ) -> _Raw | None:
        if self._script is None or time.monotonic() < self._retry_at:
            return None
        seconds = now // MICROS
        tenant = tenant_id or "-"
        keys = [f"{self._prefix}:global"] + [
            f"{self._prefix}:{tenant}:{name}:{seconds // size}" for name, size in WINDOWS
        ]
        per_tenant = limits.as_tuple() if tenant_id is not None else (0, 0, 0)
        ttls = [((seconds // size + 1) * size + 60) * 1000 - now // 1000 for _, size in WINDOWS]
        try:
            result = await self._script(
                keys=keys, args=[now, self._interval, self._burst, count, *per_tenant, *ttls]
            )
        except (RedisError, OSError) as exc:
            self._retry_at = time.monotonic() + self._retry_seconds
            if not self._down:
                self._down = True
                log.warning("redis unavailable; ingress limits fall back to this process", exc_info=exc)
            return None
        if self._down:
            self._down = False
            log.info("redis is back; ingress limits use it again")
        values = [int(v) for v in result]
        return _Raw(
            bool(values[0]), values[1], values[2], values[3], values[4], (values[5], values[6], values[7])
        )

    def _decide(self, raw: _Raw, now: int, count: int, limits: TenantLimits) -> Decision:
        refused_by_tenant = count > 0 and raw.granted == 0
        if not raw.global_ok:
            return Decision(
                granted=0,
                refused=True,
                limit=self._burst,
                remaining=0,
                reset=_at(raw.global_reset),
                retry_after=_ceil_seconds(raw.global_retry),
                window="global",
            )
        seconds = now // MICROS
        candidates = [
            (max(limit - used, 0), -size, limit, (seconds // size + 1) * size, name)
            for (name, size), limit, used in zip(WINDOWS, limits.as_tuple(), raw.used, strict=True)
            if limit > 0
        ]
        if candidates:
            # The window that binds first: the fewest left; on a tie the longest, which resets last.
            remaining, _, limit, end, name = min(candidates)
            return Decision(
                granted=raw.granted,
                refused=refused_by_tenant,
                limit=limit,
                remaining=remaining,
                reset=datetime.fromtimestamp(end, UTC),
                retry_after=_ceil_seconds(end * MICROS - now) if refused_by_tenant else None,
                window=name,
            )
        if self._interval > 0:
            return Decision(
                granted=raw.granted,
                refused=False,
                limit=self._burst,
                remaining=raw.global_remaining,
                reset=_at(raw.global_reset),
                window="global",
            )
        return Decision(granted=raw.granted, refused=False, limit=None, remaining=0, reset=_at(now))
