"""A circuit breaker per sender, shared by every worker process through Redis.

States: **closed** (sends go through; consecutive transient failures are counted), **open**
(after ``threshold`` consecutive failures: every send of that sender is deferred until
``open_until``), **half-open** (the cool-down is over: exactly one caller gets a probe, and the
others stay deferred for another cool-down). A success closes the breaker; a failed probe opens
it again. Each step is one atomic Lua script on one hash per sender.

When Redis is unreachable each process falls back to its own in-process breaker with the same
rules: a Redis outage never stops sending, it only makes the breaker per-process for a while.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_PREFIX = "wanotify:breaker:"

# KEYS[1] breaker hash; ARGV: now, cooldown. Returns {allowed (0/1), seconds to wait (string)}.
_BEFORE = """
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if open_until == 0 then return {1, '0'} end
local now = tonumber(ARGV[1])
if now < open_until then return {0, tostring(open_until - now)} end
local cooldown = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'open_until', tostring(now + cooldown), 'probing', '1')
redis.call('EXPIRE', KEYS[1], math.ceil(cooldown * 4 + 60))
return {1, '0'}
"""

# KEYS[1]; ARGV: now, cooldown, threshold. Returns 1 when this failure opened the breaker.
_FAILURE = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local probing = redis.call('HGET', KEYS[1], 'probing') == '1'
local cooldown = tonumber(ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(cooldown * 4 + 3600))
if probing or failures >= tonumber(ARGV[3]) then
  local was_open = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0') > 0
  redis.call('HSET', KEYS[1], 'open_until', tostring(tonumber(ARGV[1]) + cooldown), 'probing', '0')
  if was_open and not probing then return 0 end
  return 1
end
return 0
"""

# KEYS[1]. Returns 1 when the breaker was open or half-open (this success closed it).
_SUCCESS = """
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
redis.call('DEL', KEYS[1])
if open_until > 0 then return 1 end
return 0
"""


class _LocalState:
    __slots__ = ("failures", "open_until", "probing")

    def __init__(self) -> None:
        self.failures = 0
        self.open_until = 0.0
        self.probing = False


class LocalBreaker:
    """The same rules in one process (the fallback while Redis is down)."""

    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float] = time.time) -> None:
        self._threshold = threshold
        self._cooldown = cooldown
        self._clock = clock
        self._states: dict[str, _LocalState] = {}

    def before(self, sender_id: str) -> float | None:
        state = self._states.get(sender_id)
        if state is None or state.open_until == 0:
            return None
        now = self._clock()
        if now < state.open_until:
            return state.open_until - now
        state.open_until = now + self._cooldown
        state.probing = True
        return None

    def failure(self, sender_id: str) -> bool:
        state = self._states.setdefault(sender_id, _LocalState())
        state.failures += 1
        if state.probing or state.failures >= self._threshold:
            opened = state.probing or state.open_until == 0
            state.open_until = self._clock() + self._cooldown
            state.probing = False
            return opened
        return False

    def success(self, sender_id: str) -> bool:
        state = self._states.pop(sender_id, None)
        return state is not None and state.open_until > 0


class CircuitBreaker:
    """``before`` → None to send now, or the seconds until the next probe; then report the outcome."""

    def __init__(
        self,
        redis: Redis | None,
        *,
        threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self._redis = redis
        self._threshold = max(1, threshold)
        self._cooldown = max(0.0, cooldown)
        self._clock = clock
        self._local = LocalBreaker(self._threshold, self._cooldown, clock)
        self._on_change = on_change or (lambda state: None)
        self._scripts: dict[str, Any] = {}
        if redis is not None:
            self._scripts = {
                "before": redis.register_script(_BEFORE),
                "failure": redis.register_script(_FAILURE),
                "success": redis.register_script(_SUCCESS),
            }

    async def _run(self, name: str, sender_id: str, *args: float) -> Any:
        """The script's answer, or None when Redis is unavailable (the caller uses the local breaker)."""
        if not self._scripts:
            return None
        try:
            return await self._scripts[name](keys=[KEY_PREFIX + sender_id], args=list(args))
        except (RedisError, OSError) as exc:
            log.warning("breaker falls back to in-process state", extra={"error": str(exc)[:200]})
            return None

    async def before(self, sender_id: str) -> float | None:
        answer = await self._run("before", sender_id, self._clock(), self._cooldown)
        if answer is None:
            return self._local.before(sender_id)
        allowed, wait = answer
        if int(allowed) == 1:
            return None
        return max(0.0, float(wait.decode() if isinstance(wait, bytes) else wait))

    async def failure(self, sender_id: str) -> None:
        answer = await self._run("failure", sender_id, self._clock(), self._cooldown, self._threshold)
        opened = self._local.failure(sender_id) if answer is None else int(answer) == 1
        if opened:
            log.warning("sender circuit breaker opened", extra={"sender_id": sender_id})
            self._on_change("open")

    async def success(self, sender_id: str) -> None:
        answer = await self._run("success", sender_id)
        closed = self._local.success(sender_id) if answer is None else int(answer) == 1
        if closed:
            log.info("sender circuit breaker closed", extra={"sender_id": sender_id})
            self._on_change("closed")
