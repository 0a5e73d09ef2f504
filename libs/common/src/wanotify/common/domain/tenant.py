"""Per-tenant policy, stored as JSON in ``tenants.settings``; every field has a sane default."""

from __future__ import annotations

from typing import Any

import msgspec

DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "UNSUBSCRIBE")


class IngressLimits(msgspec.Struct, frozen=True, omit_defaults=True):
    """Notifications accepted per window; None uses the server default, 0 means unlimited."""

    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None


class AntiSpamLimits(msgspec.Struct, frozen=True, omit_defaults=True):
    """Messages sent to one recipient per sliding window; None uses the server default, 0 means unlimited."""

    per_hour: int | None = None
    per_day: int | None = None


class TenantPolicy(msgspec.Struct, frozen=True, omit_defaults=True):
    # Template language fallback: requested locale → locales to try next, e.g. {"pt_BR": ["pt", "en"]}.
    language_fallback: dict[str, list[str]] = {}
    # Send attempts per priority ("high", "normal", "low"); a missing priority uses WORKER_MAX_ATTEMPTS.
    max_attempts: dict[str, int] = {}
    # Inbound texts that opt a recipient out (matched case-insensitively on the whole trimmed text).
    opt_out_keywords: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_OPT_OUT_KEYWORDS))
    # Ingress limits for this tenant (RATE_LIMIT_TENANT_PER_* are the defaults).
    rate_limits: IngressLimits = IngressLimits()
    # Recipient anti-spam windows for this tenant (ANTI_SPAM_PER_* are the defaults).
    anti_spam: AntiSpamLimits = AntiSpamLimits()


def policy_of(settings: dict[str, Any] | None) -> TenantPolicy:
    return msgspec.convert(settings or {}, TenantPolicy)
