"""Template management through the Graph API: create (reference §6) and delete, with optional auto-review."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from wanotify.sandbox.errors import MetaError
from wanotify.sandbox.ids import new_numeric_id
from wanotify.sandbox.models import Template
from wanotify.sandbox.payloads import template_status_payload
from wanotify.sandbox.state import SandboxState
from wanotify.sandbox.webhooks import WebhookDispatcher

_NAME = re.compile(r"[a-z0-9_]{1,512}")
CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")


def _field(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MetaError(100, f"The parameter {key} is required.")
    return value.strip()


def parse_create_request(raw: bytes) -> Template:
    """A new PENDING template from a `POST /{waba-id}/message_templates` body; MetaError(100) when invalid."""
    try:
        body = msgspec.json.decode(raw) if raw else None
    except msgspec.DecodeError:
        raise MetaError(100, "Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise MetaError(100, "Request body must be a JSON object.")
    name = _field(body, "name")
    if not _NAME.fullmatch(name):
        raise MetaError(
            100, "Template name can only contain lowercase alphanumeric characters and underscores (max 512)."
        )
    language = _field(body, "language")
    category = _field(body, "category").upper()
    if category not in CATEGORIES:
        raise MetaError(100, f"Param category must be one of {{{', '.join(CATEGORIES)}}}.")
    parameter_format = str(body.get("parameter_format") or "POSITIONAL").upper()
    if parameter_format not in PARAMETER_FORMATS:
        raise MetaError(100, "Param parameter_format must be one of {POSITIONAL, NAMED}.")
    components = body.get("components")
    if not isinstance(components, list) or not components or not all(isinstance(c, dict) for c in components):
        raise MetaError(100, "The parameter components is required and must be a non-empty list of objects.")
    return Template(
        id=new_numeric_id(),
        name=name,
        language=language,
        status="PENDING",
        category=category,
        parameter_format=parameter_format,
        components=[dict(c) for c in components],
    )


def set_status(
    state: SandboxState,
    dispatcher: WebhookDispatcher,
    waba_id: str,
    template: Template,
    reason: str | None = None,
) -> Template:
    """Add or replace a template; a changed status emits `message_template_status_update`."""
    old = state.find_template(waba_id, template.name, template.language)
    kept = state.add_template(waba_id, template)
    if old is not None and old.status != kept.status:
        payload = template_status_payload(
            waba_id, kept, event=kept.status, reason=reason, at=int(time.time())
        )
        dispatcher.schedule_payload("template_status", None, payload, status=kept.status)
    return kept


class TemplateManager:
    def __init__(
        self, state: SandboxState, dispatcher: WebhookDispatcher, review_seconds: float | None
    ) -> None:
        self._state = state
        self._dispatcher = dispatcher
        self._review_seconds = review_seconds

    def create(self, waba_id: str, raw: bytes) -> dict[str, Any]:
        template = parse_create_request(raw)
        if self._state.find_template(waba_id, template.name, template.language) is not None:
            raise MetaError(
                100,
                f"Content in this language already exists: a template named {template.name!r} in "
                f"{template.language!r} already exists on this WhatsApp Business Account.",
            )
        self._state.add_template(waba_id, template)
        if self._review_seconds is not None:
            self._dispatcher.spawn(self._review(waba_id, template.id))
        return {"id": template.id, "status": template.status, "category": template.category}

    async def _review(self, waba_id: str, template_id: str) -> None:
        await asyncio.sleep(self._review_seconds or 0.0)
        for template in self._state.templates_of(waba_id):
            if template.id == template_id and template.status == "PENDING":
                set_status(
                    self._state,
                    self._dispatcher,
                    waba_id,
                    msgspec.structs.replace(template, status="APPROVED"),
                )

    def delete(self, waba_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        name = (query.get("name") or "").strip()
        hsm_id = (query.get("hsm_id") or "").strip()
        if not name and not hsm_id:
            raise MetaError(100, "The parameter name is required.")
        removed = self._state.remove_templates(waba_id, name=name or None, template_id=hsm_id or None)
        if not removed:
            raise MetaError(100, "Message template not found.")
        return {"success": True}
