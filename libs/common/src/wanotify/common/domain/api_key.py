"""An API key as the tenant sees it, and the decisions about it: its state, whether it may be used,
when its last use is worth writing down, and what rotating it does."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import msgspec

from wanotify.common.domain.errors import Unauthorized, Unprocessable

# `last_used_at` is written at most this often per key: a hint for the tenant, not an audit log.
LAST_USED_RESOLUTION = timedelta(minutes=1)
DEFAULT_ROTATION_GRACE = timedelta(hours=24)
MAX_ROTATION_GRACE = timedelta(days=7)


class KeyState(enum.StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"  # rotated: works until its grace time ends
    EXPIRED = "expired"
    REVOKED = "revoked"


class ApiKey(msgspec.Struct, frozen=True):
    id: str
    tenant_id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    replaced_by: str | None = None


def key_state(key: ApiKey, now: datetime) -> KeyState:
    if key.revoked_at is not None:
        return KeyState.REVOKED
    if key.expires_at is not None and key.expires_at <= now:
        return KeyState.EXPIRED
    if key.replaced_by is not None:
        return KeyState.EXPIRING
    return KeyState.ACTIVE


def check_usable(key: ApiKey, now: datetime) -> None:
    """401 with a code that says why a known key may not be used."""
    state = key_state(key, now)
    if state is KeyState.REVOKED:
        raise Unauthorized("This API key was revoked", code="API_KEY_REVOKED")
    if state is KeyState.EXPIRED:
        raise Unauthorized("This API key has expired", code="API_KEY_EXPIRED")


def use_worth_recording(last_recorded: datetime | None, now: datetime) -> bool:
    return last_recorded is None or now - last_recorded >= LAST_USED_RESOLUTION


def check_new_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise Unprocessable("expires_at must be in the future", field="expires_at", code="EXPIRY_IN_PAST")


def rotation_deadline(key: ApiKey, grace: timedelta, now: datetime) -> datetime:
    """When the rotated key stops working: after the grace time, or sooner if it expired anyway."""
    if key_state(key, now) in (KeyState.REVOKED, KeyState.EXPIRED):
        raise Unprocessable(
            f"A {key_state(key, now).value} key cannot be rotated; create a new one",
            field="key_id",
            code="KEY_NOT_ROTATABLE",
        )
    if key.replaced_by is not None:
        raise Unprocessable(
            f"This key was already rotated (to {key.replaced_by}); rotate that one",
            field="key_id",
            code="KEY_NOT_ROTATABLE",
        )
    deadline = now + grace
    return min(deadline, key.expires_at) if key.expires_at is not None else deadline
