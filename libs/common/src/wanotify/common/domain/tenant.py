"""Per-tenant policy, stored as JSON in ``tenants.settings``; every field has a sane default."""

from __future__ import annotations

from typing import Any

import msgspec

DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "UNSUBSCRIBE")


class TenantPolicy(msgspec.Struct, frozen=True, omit_defaults=True):
    # Template language fallback: requested locale → locales to try next, e.g. {"pt_BR": ["pt", "en"]}.
    language_fallback: dict[str, list[str]] = {}
    # Send attempts per priority ("high", "normal", "low"); a missing priority uses WORKER_MAX_ATTEMPTS.
    max_attempts: dict[str, int] = {}
    # Inbound texts that opt a recipient out (matched case-insensitively on the whole trimmed text).
    opt_out_keywords: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_OPT_OUT_KEYWORDS))


def policy_of(settings: dict[str, Any] | None) -> TenantPolicy:
    return msgspec.convert(settings or {}, TenantPolicy)
