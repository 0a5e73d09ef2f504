"""Sandbox settings: parsed once from the environment into a frozen struct."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec

from wanotify.common.config import Secret

WindowErrorMode = Literal["async", "sync"]
StatusOrder = Literal["normal", "reversed", "shuffled"]
STATUS_ORDERS: tuple[StatusOrder, ...] = ("normal", "reversed", "shuffled")

DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8081/webhooks/whatsapp"


class SandboxSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Each default is written here once; :func:`load_sandbox_settings` reads it from ``_DEFAULT``."""

    app_secret: Secret
    host: str = "127.0.0.1"
    port: int = 8090
    webhook_url: str = DEFAULT_WEBHOOK_URL
    sent_delay_seconds: float = 0.2
    delivered_delay_seconds: float = 0.4
    read_delay_seconds: float = 0.6
    webhook_max_attempts: int = 6
    webhook_retry_base_seconds: float = 0.5
    webhook_timeout_seconds: float = 5.0
    window_error_mode: WindowErrorMode = "async"
    seed_file: str = ""
    # Limits (reference §4.1, §4.2): Meta's defaults.
    default_throughput_mps: float = 80.0
    throughput_burst_seconds: float = 1.0
    pair_burst: int = 45
    pair_interval_seconds: float = 6.0
    # No code is documented for an exhausted messaging limit (reference §4.3); 131048 is our choice.
    messaging_limit_error_code: int = 131048
    # Status webhook misbehaviour applied to every message (per-recipient knobs override them).
    status_duplicates: bool = False
    status_order: StatusOrder = "normal"
    skip_delivered: bool = False
    status_delay_seconds: float = 0.0
    drop_statuses: bool = False
    # Templates created through the Graph API stay PENDING unless set: APPROVED after this many seconds.
    template_review_seconds: float | None = None
    # Uploaded media kept in memory (oldest evicted beyond this); strict: sends by unknown media id -> 131053.
    media_max_bytes: int = 256 * 1024 * 1024
    strict_media_ids: bool = True


_D = SandboxSettings(app_secret=Secret(""))


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {raw!r}")
    return value


def _optional_float(env: Mapping[str, str], name: str) -> float | None:
    if not env.get(name, "").strip():
        return None
    return _float(env, name, 0.0)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, got {env.get(name)!r}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _status_order(env: Mapping[str, str]) -> StatusOrder:
    raw = env.get("SANDBOX_STATUS_ORDER", "").strip().lower() or _D.status_order
    for order in STATUS_ORDERS:
        if raw == order:
            return order
    raise ValueError(f"SANDBOX_STATUS_ORDER must be one of {', '.join(STATUS_ORDERS)}, got {raw!r}")


def _window_mode(env: Mapping[str, str]) -> WindowErrorMode:
    raw = env.get("SANDBOX_WINDOW_ERROR_MODE", "").strip().lower() or _D.window_error_mode
    if raw == "async":
        return "async"
    if raw == "sync":
        return "sync"
    raise ValueError(f"SANDBOX_WINDOW_ERROR_MODE must be 'async' or 'sync', got {raw!r}")


def load_sandbox_settings(env: Mapping[str, str]) -> SandboxSettings:
    """Read the sandbox settings from environment variables (raises ValueError when invalid)."""
    webhook_url = env.get("SANDBOX_WEBHOOK_URL", DEFAULT_WEBHOOK_URL).strip()
    app_secret = env.get("META_APP_SECRET", "")
    if webhook_url and not app_secret:
        raise ValueError("META_APP_SECRET is required to sign webhooks (or set SANDBOX_WEBHOOK_URL='')")
    return SandboxSettings(
        host=env.get("SANDBOX_HOST", "").strip() or _D.host,
        port=_int(env, "SANDBOX_PORT", _D.port, minimum=0),
        app_secret=Secret(app_secret),
        webhook_url=webhook_url,
        sent_delay_seconds=_float(env, "SANDBOX_SENT_DELAY_SECONDS", _D.sent_delay_seconds),
        delivered_delay_seconds=_float(env, "SANDBOX_DELIVERED_DELAY_SECONDS", _D.delivered_delay_seconds),
        read_delay_seconds=_float(env, "SANDBOX_READ_DELAY_SECONDS", _D.read_delay_seconds),
        webhook_max_attempts=_int(env, "SANDBOX_WEBHOOK_MAX_ATTEMPTS", _D.webhook_max_attempts, minimum=1),
        webhook_retry_base_seconds=_float(
            env, "SANDBOX_WEBHOOK_RETRY_BASE_SECONDS", _D.webhook_retry_base_seconds
        ),
        webhook_timeout_seconds=_float(env, "SANDBOX_WEBHOOK_TIMEOUT_SECONDS", _D.webhook_timeout_seconds),
        window_error_mode=_window_mode(env),
        seed_file=env.get("SANDBOX_SEED_FILE", "").strip(),
        default_throughput_mps=_positive(env, "SANDBOX_DEFAULT_THROUGHPUT_MPS", _D.default_throughput_mps),
        throughput_burst_seconds=_positive(
            env, "SANDBOX_THROUGHPUT_BURST_SECONDS", _D.throughput_burst_seconds
        ),
        pair_burst=_int(env, "SANDBOX_PAIR_BURST", _D.pair_burst, minimum=1),
        pair_interval_seconds=_positive(env, "SANDBOX_PAIR_INTERVAL_SECONDS", _D.pair_interval_seconds),
        messaging_limit_error_code=_int(
            env, "SANDBOX_MESSAGING_LIMIT_ERROR_CODE", _D.messaging_limit_error_code, minimum=0
        ),
        status_duplicates=_bool(env, "SANDBOX_STATUS_DUPLICATES", _D.status_duplicates),
        status_order=_status_order(env),
        skip_delivered=_bool(env, "SANDBOX_SKIP_DELIVERED", _D.skip_delivered),
        status_delay_seconds=_float(env, "SANDBOX_STATUS_DELAY_SECONDS", _D.status_delay_seconds),
        drop_statuses=_bool(env, "SANDBOX_DROP_STATUSES", _D.drop_statuses),
        template_review_seconds=_optional_float(env, "SANDBOX_TEMPLATE_REVIEW_SECONDS"),
        media_max_bytes=_int(env, "SANDBOX_MEDIA_MAX_BYTES", _D.media_max_bytes, minimum=1),
        strict_media_ids=_bool(env, "SANDBOX_STRICT_MEDIA_IDS", _D.strict_media_ids),
    )
