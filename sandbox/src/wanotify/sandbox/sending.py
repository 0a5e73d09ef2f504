"""The send endpoint's logic: auth, validation, window, faults, the answer and the status plan."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import msgspec

from wanotify.sandbox.behaviours import StatusKnobs, apply_behaviour, default_knobs
from wanotify.sandbox.errors import MetaError, invalid_token
from wanotify.sandbox.ids import new_wamid
from wanotify.sandbox.limits import RateLimiter
from wanotify.sandbox.magic import Magic, magic_of
from wanotify.sandbox.models import MessageRecord, Outcome, PhoneNumber
from wanotify.sandbox.payloads import SERVICE_BILLING, Billing, template_billing
from wanotify.sandbox.settings import SandboxSettings
from wanotify.sandbox.state import SandboxState
from wanotify.sandbox.template_check import check_template_request, find_template, template_reference
from wanotify.sandbox.validation import (
    MEDIA_TYPES,
    Envelope,
    normalize_recipient,
    validate_envelope,
    validate_free_form,
)
from wanotify.sandbox.webhooks import StatusPlan, WebhookDispatcher


class SendOutcome(msgspec.Struct, frozen=True):
    http_status: int
    body: dict[str, Any]


class Sender:
    def __init__(
        self,
        settings: SandboxSettings,
        state: SandboxState,
        dispatcher: WebhookDispatcher,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._settings = settings
        self._state = state
        self._dispatcher = dispatcher
        self.limiter = limiter if limiter is not None else RateLimiter(settings)

    async def send(self, phone_number_id: str, token: str | None, raw_body: bytes) -> SendOutcome:
        """Handle `POST /{version}/{phone_number_id}/messages` and log the request."""
        record = MessageRecord(
            id=None,
            phone_number_id=phone_number_id,
            to=None,
            wa_id=None,
            type=None,
            request=None,
            http_status=200,
            error_code=None,
            outcome="accepted",
            received_at=time.time(),
        )
        self._state.messages.append(record)
        try:
            return await self._send(record, phone_number_id, token, raw_body)
        except MetaError as error:
            record.http_status = error.http_status
            record.error_code = error.code
            record.outcome = "refused"
            return SendOutcome(http_status=error.http_status, body=error.body())

    def _authorize(self, phone_number_id: str, token: str | None) -> PhoneNumber:
        if not token or not self._state.known_token(token):
            raise invalid_token()
        phone = self._state.phone_numbers.get(phone_number_id)
        if phone is None:
            raise MetaError(
                100,
                f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
            )
        if token != phone.access_token:
            raise invalid_token()
        return phone

    def _check_content(self, phone: PhoneNumber, envelope: Envelope) -> Billing:
        content = envelope.content
        if isinstance(content, dict) and envelope.type == "template":
            name, language = template_reference(content)
            template = find_template(self._state.templates_of(phone.waba_id), name, language)
            check_template_request(template, content)
            return template_billing(template.category)
        validate_free_form(envelope.type, content)
        if self._settings.strict_media_ids and envelope.type in MEDIA_TYPES and isinstance(content, dict):
            media_id = content.get("id")
            if isinstance(media_id, str) and self._state.media.get(media_id) is None:
                raise MetaError(131053, f"Media id {media_id} was not found: upload it first.")
        return SERVICE_BILLING

    def _decode(self, record: MessageRecord, raw_body: bytes) -> Any:
        """The request JSON, noted in the log record as far as it can be read."""
        try:
            payload = msgspec.json.decode(raw_body)
        except msgspec.DecodeError:
            raise MetaError(100, "The request body is not valid JSON.") from None
        record.request = payload
        if isinstance(payload, dict):
            to, message_type = payload.get("to"), payload.get("type")
            record.to = to if isinstance(to, str) else None
            record.type = message_type if isinstance(message_type, str) else None
            with contextlib.suppress(MetaError):
                record.wa_id = normalize_recipient(record.to) if record.to else None
        return payload

    async def _async_failure(self, phone: PhoneNumber, envelope: Envelope, magic: Magic | None) -> int | None:
        """Apply magic numbers, faults and the window: raise a sync error, or return an async one."""
        if magic is not None:
            # Families 01 and 02 decide the outcome alone: no fault is used, the window is not checked.
            if magic.sync_error is not None:
                raise MetaError(magic.sync_error)
            if magic.async_failure is not None:
                return magic.async_failure
        failure_code: int | None = None
        fault = self._state.take_fault(envelope.wa_id)
        if fault is not None:
            if fault.delay_seconds > 0:
                await asyncio.sleep(fault.delay_seconds)
            if fault.code is not None and fault.mode == "sync":
                raise MetaError(fault.code)
            failure_code = fault.code
        free_form = envelope.type != "template"
        if free_form and not self._state.window_open(phone.phone_number_id, envelope.wa_id, time.time()):
            if self._settings.window_error_mode == "sync":
                raise MetaError(131047)
            if failure_code is None:
                failure_code = 131047
        return failure_code

    def _count_unique_user(self, phone: PhoneNumber, wa_id: str) -> None:
        """The messaging-limit tier: unique users reached outside the window per WABA per 24 h."""
        now = time.time()
        if self._state.window_open(phone.phone_number_id, wa_id, now):
            return
        if not self._state.reach_user(phone.waba_id, wa_id, now, phone.messaging_limit):
            raise MetaError(
                self._settings.messaging_limit_error_code,
                f"Messaging limit reached: this business can message {phone.messaging_limit} unique users "
                "outside the customer-service window in 24 hours.",
            )

    def _knobs(self, wa_id: str, magic: Magic | None) -> StatusKnobs:
        """Start-up knobs, then the recipient's admin behaviour, then its magic number's."""
        knobs = apply_behaviour(default_knobs(self._settings), self._state.behaviours.get(wa_id))
        return apply_behaviour(knobs, magic.behaviour if magic is not None else None)

    async def _send(
        self, record: MessageRecord, phone_number_id: str, token: str | None, raw_body: bytes
    ) -> SendOutcome:
        phone = self._authorize(phone_number_id, token)
        envelope = validate_envelope(self._decode(record, raw_body))
        record.wa_id = envelope.wa_id
        billing = self._check_content(phone, envelope)
        if envelope.wa_id == phone.display_digits:
            raise MetaError(131021, "The recipient is the sender's own phone number.")
        self.limiter.check(phone, envelope.wa_id, time.monotonic())
        magic = magic_of(envelope.wa_id)
        failure_code = await self._async_failure(phone, envelope, magic)
        knobs = self._knobs(envelope.wa_id, magic)
        if envelope.type == "template" and failure_code is None:
            self._count_unique_user(phone, envelope.wa_id)

        wamid = new_wamid(envelope.wa_id)
        outcome: Outcome = "failed" if failure_code is not None else "accepted"
        record.id, record.outcome, record.error_code = wamid, outcome, failure_code
        self._dispatcher.schedule_statuses(
            StatusPlan(
                phone=phone,
                wamid=wamid,
                wa_id=envelope.wa_id,
                callback_data=envelope.callback_data,
                billing=billing,
                failure_code=failure_code,
                knobs=knobs,
            )
        )
        message: dict[str, str] = {"id": wamid}
        if envelope.type == "template":
            message["message_status"] = "accepted"
        return SendOutcome(
            http_status=200,
            body={
                "messaging_product": "whatsapp",
                "contacts": [{"input": envelope.to, "wa_id": envelope.wa_id}],
                "messages": [message],
            },
        )
