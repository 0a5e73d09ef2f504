"""Bodies of the templates API."""

from __future__ import annotations

from typing import Any

import msgspec


class TemplateOut(msgspec.Struct):
    name: str
    language: str
    status: str
    category: str | None
    parameter_format: str
    waba_id: str
    meta_id: str | None
    components: list[dict[str, Any]]
    synced_at: str | None
    updated_at: str | None


class TemplateList(msgspec.Struct):
    templates: list[TemplateOut]


class WabaSyncOut(msgspec.Struct):
    waba_id: str
    templates: int
    removed: int
    error: str | None


class SyncResult(msgspec.Struct):
    synced: int
    wabas: list[WabaSyncOut]
