"""Dispatch pacing: the exact next free send slot of a notification, shared through Redis.

Limits (each one optional): the sender's throughput tier (messages/s), the pair rate per sender and
recipient (Meta's token bucket: ``pair_burst`` at once, then one per ``pair_interval_seconds``), the
anti-spam windows per tenant and recipient (sliding hour and day), and the sender's daily
unique-user tier (a moving 24 h of distinct recipients of business-initiated messages).

``Pacer.acquire`` returns the wait until the earliest time >= now at which every limit admits the
message, given every reservation already made (future ones included), and RESERVES that slot for
the notification id. Each call is one atomic Lua script (``script.lua``) using Redis server time,
with all keys of a call under one Cluster hash tag ``wanotify:pace:{<tenant_id>}:``:

* anti-spam: a ZSET per recipient (member = notification id, score = slot); with limit L over a
  window W the earliest admissible time is ``s_L + W`` (s_L = the L-th largest score), else now.
* unique users: a ZSET per sender (member = recipient, score = last reach); a recipient reached in
  the last 24 h is already counted; a new one uses the same window rule with W = 24 h.
* pair: a GCRA (TAT per pair): earliest = TAT - (burst - 1) * interval; then TAT = max(TAT, slot) + interval.
* throughput: a slot grid, not a GCRA, so a reservation far in the future (say held 40 min by
  anti-spam) does not block near-term slots: buckets of 0.25 s hold L = max(1, floor(rate * 0.25))
  messages; the message takes the first non-full bucket at or after the slowest limit above, at
  position ``bucket_start + count * 0.25 / L``. At most L per 0.25 s means Meta's one-second token
  bucket tolerates about 0.75 s of network jitter.

The binding limit is the one that set the slot (pair, then anti-spam hour, day, unique users on a
tie; "throughput" when the grid moved it further; "none" when the slot is now).

A slot more than ``max_sleep_seconds`` away is also recorded as a hold (per sender, id -> slot): when
the notification comes back (it is requeued as ``rate_limited`` with ``next_attempt_at``) and the
slot is not older than 0.5 s, it gets the same slot back without taking anything again. A later
return (up to an hour late) gets a fresh slot: its own anti-spam entry and unique-user score are
replaced and its unused pair step is given back (TAT - interval), so nothing is counted twice and a
notification coming back a little late (the scheduler's tick) is not pushed one interval further
each time. Its old grid place lies in the past and is simply left. A slot taken with a short wait is
consumed (the caller sends); a later acquire of the same id (a retry) gets a fresh slot.

Known conservative spots: the anti-spam and unique-user windows never place a message into a gap
between two existing reservations (``s_L + W`` is the earliest time after which every window
holding the new message has room); the pair GCRA is first come, first served per pair; a
reservation is not given back when its notification is cancelled while it waits.

Redis unavailable (any RedisError/OSError): an in-process pacer (``local_pacer.py``, the same
algorithm) decides with a conservative share (``fallback_share``) of every limit: rate x share,
pair burst and anti-spam/unique limits x share (at least 1), pair interval / share. Redis is tried
again one second after a failure; a warning is logged once per outage and once on recovery.
Reservations do not cross between the two (a hold made in Redis is not known locally and vice versa).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from wanotify.common.config import PacingSettings
from wanotify.common.pacing.local_pacer import LocalPacer
from wanotify.common.pacing.model import Limits, PaceDecision, PaceRequest
from wanotify.common.pacing.redis_pacer import RedisPacer

log = logging.getLogger(__name__)

RETRY_REDIS_AFTER_SECONDS = 1.0


class Pacer:
    def __init__(
        self, redis: Redis | None, settings: PacingSettings, *, clock: Callable[[], float] | None = None
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._redis = RedisPacer(redis) if redis is not None else None
        self._local = LocalPacer()
        self._share = min(1.0, max(settings.fallback_share, 1e-3))
        self._retry_at = 0.0
        self._outage = False

    def _limits(self, request: PaceRequest, share: float) -> Limits:
        s = self._settings
        return Limits.of(request, s.pair_burst, s.pair_interval_seconds, s.max_sleep_seconds, share)

    async def acquire(self, request: PaceRequest) -> PaceDecision:
        if self._redis is not None and time.monotonic() >= self._retry_at:
            now = self._clock() if self._clock is not None else None
            try:
                wait, binding = await self._redis.acquire(request, self._limits(request, 1.0), now)
            except (RedisError, OSError) as exc:
                self._retry_at = time.monotonic() + RETRY_REDIS_AFTER_SECONDS
                if not self._outage:
                    self._outage = True
                    log.warning(
                        "Redis unavailable: dispatch pacing falls back to a local share",
                        extra={"error": str(exc)[:200]},
                    )
            else:
                if self._outage:
                    self._outage = False
                    log.warning("Redis is back: dispatch pacing is shared again")
                return PaceDecision(wait=wait, binding=binding, local=False)
        now = self._clock() if self._clock is not None else time.time()
        wait, binding = self._local.acquire(request, self._limits(request, self._share), now)
        return PaceDecision(wait=wait, binding=binding, local=True)
