"""The sandbox's in-memory state: configuration (phone numbers, templates) and what happened."""

from __future__ import annotations

import msgspec

from wanotify.sandbox.catalog import Seed
from wanotify.sandbox.media import MediaStore
from wanotify.sandbox.models import Behaviour, Fault, MessageRecord, PhoneNumber, Template, WebhookAttempt

WINDOW_SECONDS = 24 * 3600
DEFAULT_MEDIA_MAX_BYTES = 256 * 1024 * 1024


class SandboxState:
    def __init__(self, media_max_bytes: int = DEFAULT_MEDIA_MAX_BYTES) -> None:
        self.media = MediaStore(media_max_bytes)
        self.phone_numbers: dict[str, PhoneNumber] = {}
        self.templates: dict[str, list[Template]] = {}
        self.messages: list[MessageRecord] = []
        self.webhooks: list[WebhookAttempt] = []
        self.faults: list[Fault] = []
        self.last_inbound: dict[tuple[str, str], float] = {}
        self.behaviours: dict[str, Behaviour] = {}
        # WABA -> wa_id -> when a template first reached that user outside the window (messaging limit).
        self.reached: dict[str, dict[str, float]] = {}

    def apply_seed(self, seed: Seed) -> None:
        for phone in seed.phone_numbers:
            self.add_phone_number(phone)
        for waba_id, template in seed.templates:
            self.add_template(waba_id, template)

    def add_phone_number(self, phone: PhoneNumber) -> None:
        self.phone_numbers[phone.phone_number_id] = phone

    def find_template(self, waba_id: str, name: str, language: str) -> Template | None:
        for template in self.templates.get(waba_id, []):
            if template.name == name and template.language == language:
                return template
        return None

    def add_template(self, waba_id: str, template: Template) -> Template:
        """Add a template; one with the same name and language is replaced, keeping its id."""
        existing = self.templates.setdefault(waba_id, [])
        for index, old in enumerate(existing):
            if old.name == template.name and old.language == template.language:
                kept = msgspec.structs.replace(template, id=old.id)
                existing[index] = kept
                return kept
        existing.append(template)
        return template

    def remove_templates(self, waba_id: str, *, name: str | None, template_id: str | None) -> int:
        """Remove the templates matching `name` (every language) and/or `template_id`; how many went."""
        kept, removed = [], 0
        for template in self.templates.get(waba_id, []):
            matches = (name is None or template.name == name) and (
                template_id is None or template.id == template_id
            )
            if matches:
                removed += 1
            else:
                kept.append(template)
        if removed:
            self.templates[waba_id] = kept
        return removed

    def templates_of(self, waba_id: str) -> list[Template]:
        return list(self.templates.get(waba_id, []))

    def tokens_of_waba(self, waba_id: str) -> set[str]:
        return {p.access_token for p in self.phone_numbers.values() if p.waba_id == waba_id}

    def known_token(self, token: str) -> bool:
        return any(p.access_token == token for p in self.phone_numbers.values())

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, wa_id: str) -> Fault | None:
        """The first fault that applies to this recipient, counting one use of it."""
        for fault in self.faults:
            if fault.wa_id is not None and fault.wa_id != wa_id:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def open_window(self, phone_number_id: str, wa_id: str, at: float) -> None:
        key = (phone_number_id, wa_id)
        self.last_inbound[key] = max(at, self.last_inbound.get(key, at))

    def window_open(self, phone_number_id: str, wa_id: str, now: float) -> bool:
        last = self.last_inbound.get((phone_number_id, wa_id))
        return last is not None and now - last < WINDOW_SECONDS

    def reach_user(self, waba_id: str, wa_id: str, now: float, limit: int | None) -> bool:
        """Count a user reached outside the window; False (nothing counted) when over `limit`."""
        reached = self.reached.setdefault(waba_id, {})
        for user in [u for u, at in reached.items() if now - at >= WINDOW_SECONDS]:
            del reached[user]
        if wa_id in reached:
            return True
        if limit is not None and len(reached) >= limit:
            return False
        reached[wa_id] = now
        return True

    def reset(self) -> None:
        """Forget logs, faults, behaviours, windows and media; phone numbers and templates stay."""
        self.media.clear()
        self.behaviours.clear()
        self.reached.clear()
        self.messages.clear()
        self.webhooks.clear()
        self.faults.clear()
        self.last_inbound.clear()
