"""The published API key scopes: each route declares one, and a key holds a set of them.

A key is created with scopes from this set only (an unknown name would be a scope nothing checks),
and never with one its creator lacks.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from wanotify.common.domain.errors import Forbidden, Unprocessable

SCOPES: tuple[str, ...] = (
    "notifications:send",
    "notifications:read",
    "senders:manage",
    "dead_letters:read",
    "dead_letters:manage",
    "templates:read",
    "templates:manage",
    "opt_outs:manage",
    "webhooks:read",
    "webhooks:manage",
    "keys:manage",
)


def checked_scopes(
    requested: Sequence[str], held: Collection[str], *, field: str = "scopes"
) -> tuple[str, ...]:
    """``requested`` in published order, once each; 422 for an unknown or repeated one, 403 for one
    the creating key does not hold."""
    if not requested:
        raise Unprocessable("A key needs at least one scope", field=field, code="SCOPES_EMPTY")
    seen: set[str] = set()
    for index, scope in enumerate(requested):
        if scope not in SCOPES:
            raise Unprocessable(
                f"Unknown scope '{scope}'; the scopes are {', '.join(SCOPES)}",
                field=f"{field}[{index}]",
                code="UNKNOWN_SCOPE",
            )
        if scope in seen:
            raise Unprocessable(
                f"Scope '{scope}' is given twice", field=f"{field}[{index}]", code="DUPLICATE_SCOPE"
            )
        seen.add(scope)
    missing = [s for s in requested if s not in held]
    if missing:
        raise Forbidden(
            f"A key cannot grant scopes its creator lacks: {', '.join(missing)}",
            field=field,
            code="SCOPE_NOT_HELD",
        )
    return tuple(s for s in SCOPES if s in seen)
