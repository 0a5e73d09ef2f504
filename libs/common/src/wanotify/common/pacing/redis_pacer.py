"""The pacing algorithm as one atomic Lua script call, shared by every worker process."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from redis.asyncio import Redis

from wanotify.common.pacing.model import (
    GRID_SECONDS,
    HOLD_GRACE_SECONDS,
    HOLD_KEEP_SECONDS,
    PRUNE_EVERY_SECONDS,
    Limits,
    PaceRequest,
)

KEY_PREFIX = "wanotify:pace:"


def _script_source() -> str:
    return files("wanotify.common.pacing").joinpath("script.lua").read_text(encoding="utf-8")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def pace_keys(request: PaceRequest) -> list[str]:
    # The {tenant} hash tag keeps every key of one call in one Redis Cluster slot.
    base = f"{KEY_PREFIX}{{{request.tenant_id}}}:"
    sender, recipient = request.sender_id, request.recipient
    return [
        f"{base}hold:{sender}",
        f"{base}holdb:{sender}",
        f"{base}tp:{sender}",
        f"{base}pair:{sender}:{recipient}",
        f"{base}as:{recipient}",
        f"{base}uu:{sender}",
    ]


class RedisPacer:
    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(_script_source())

    async def acquire(self, request: PaceRequest, limits: Limits, now: float | None) -> tuple[float, str]:
        """Reserve the slot: (seconds from now, the binding limit); ``now`` None = Redis server time."""
        args: list[str | float | int] = [
            "" if now is None else repr(now),
            request.notification_id,
            request.recipient,
            repr(limits.rate),
            limits.pair_burst,
            repr(limits.pair_interval),
            limits.per_hour,
            limits.per_day,
            limits.unique_users,
            repr(limits.max_sleep),
            repr(HOLD_GRACE_SECONDS),
            repr(GRID_SECONDS),
            repr(PRUNE_EVERY_SECONDS),
            repr(HOLD_KEEP_SECONDS),
        ]
        wait, binding = await self._script(keys=pace_keys(request), args=args)
        return max(0.0, float(_text(wait))), _text(binding)
