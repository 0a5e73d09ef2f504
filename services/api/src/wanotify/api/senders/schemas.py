"""Bodies of the senders API."""

from __future__ import annotations

from typing import Literal

import msgspec


class PauseView(msgspec.Struct):
    paused_at: str | None
    code: str | None
    reason: str | None


class SenderView(msgspec.Struct):
    id: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    throughput_mps: int
    messaging_limit: int | None  # unique users per 24 h outside the service window; null = unlimited
    is_default: bool
    status: str  # "active" or "paused"
    pause: PauseView | None


class SenderTiersIn(msgspec.Struct, forbid_unknown_fields=True):
    """Meta's tiers for this number; a field left out keeps its value; a null messaging limit is unlimited."""

    throughput_mps: Literal[20, 80, 1000] | msgspec.UnsetType = msgspec.UNSET
    messaging_limit: Literal[250, 2000, 10000, 100000] | msgspec.UnsetType | None = msgspec.UNSET


class SenderList(msgspec.Struct):
    senders: list[SenderView]


class Resumed(msgspec.Struct):
    sender: SenderView
    notifications_resumed: int
