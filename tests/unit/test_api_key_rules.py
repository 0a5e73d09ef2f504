"""The pure decisions about API keys: state, usability, last-use resolution, rotation, scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wanotify.common.domain.api_key import (
    ApiKey,
    KeyState,
    check_usable,
    key_state,
    rotation_deadline,
    use_worth_recording,
)
from wanotify.common.domain.errors import DomainError, Forbidden, Unauthorized, Unprocessable
from wanotify.common.domain.scopes import SCOPES, checked_scopes

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def key(**fields: object) -> ApiKey:
    base: dict[str, object] = {
        "id": "key_1",
        "tenant_id": "ten_1",
        "name": "k",
        "prefix": "wan_abcdefgh",
        "scopes": ["notifications:read"],
        "created_at": NOW - HOUR,
    }
    return ApiKey(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({}, KeyState.ACTIVE),
        ({"expires_at": NOW + HOUR}, KeyState.ACTIVE),
        ({"expires_at": NOW}, KeyState.EXPIRED),
        ({"expires_at": NOW + HOUR, "replaced_by": "key_2"}, KeyState.EXPIRING),
        ({"expires_at": NOW - HOUR, "replaced_by": "key_2"}, KeyState.EXPIRED),
        ({"revoked_at": NOW - HOUR, "expires_at": NOW - HOUR}, KeyState.REVOKED),
    ],
)
def test_a_keys_state(fields: dict[str, object], state: KeyState) -> None:
    assert key_state(key(**fields), NOW) is state


@pytest.mark.parametrize(
    ("fields", "code"),
    [({"revoked_at": NOW}, "API_KEY_REVOKED"), ({"expires_at": NOW - HOUR}, "API_KEY_EXPIRED")],
)
def test_an_unusable_key_says_why(fields: dict[str, object], code: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        check_usable(key(**fields), NOW)
    assert refused.value.code == code
    check_usable(key(replaced_by="key_2", expires_at=NOW + HOUR), NOW)  # in its grace time: usable


def test_last_use_is_worth_writing_once_a_minute() -> None:
    assert use_worth_recording(None, NOW)
    assert not use_worth_recording(NOW - timedelta(seconds=59), NOW)
    assert use_worth_recording(NOW - timedelta(seconds=60), NOW)


def test_rotation_ends_at_the_grace_or_the_keys_own_expiry() -> None:
    assert rotation_deadline(key(), HOUR, NOW) == NOW + HOUR
    assert rotation_deadline(key(expires_at=NOW + timedelta(minutes=5)), HOUR, NOW) == NOW + timedelta(
        minutes=5
    )
    for unrotatable in (key(revoked_at=NOW), key(expires_at=NOW - HOUR), key(replaced_by="key_2")):
        with pytest.raises(Unprocessable) as refused:
            rotation_deadline(unrotatable, HOUR, NOW)
        assert refused.value.code == "KEY_NOT_ROTATABLE"


@pytest.mark.parametrize(
    ("requested", "held", "error", "code", "field"),
    [
        ([], SCOPES, Unprocessable, "SCOPES_EMPTY", "scopes"),
        (["notifications:read", "keys:manag"], SCOPES, Unprocessable, "UNKNOWN_SCOPE", "scopes[1]"),
        (["keys:manage", "keys:manage"], SCOPES, Unprocessable, "DUPLICATE_SCOPE", "scopes[1]"),
        (["keys:manage"], ("notifications:read",), Forbidden, "SCOPE_NOT_HELD", "scopes"),
    ],
)
def test_scopes_are_checked(
    requested: list[str], held: tuple[str, ...], error: type[DomainError], code: str, field: str
) -> None:
    with pytest.raises(error) as refused:
        checked_scopes(requested, held)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_checked_scopes_come_back_in_published_order() -> None:
    assert checked_scopes(["keys:manage", "notifications:send"], SCOPES) == (
        "notifications:send",
        "keys:manage",
    )
