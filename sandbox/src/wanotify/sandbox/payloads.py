"""Webhook payloads exactly as Meta shapes them (reference §5.3 to §5.5)."""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple

from wanotify.sandbox.models import PhoneNumber, Template

CONVERSATION_SECONDS = 24 * 3600


class Billing(NamedTuple):
    """How a message is priced: template category, or a free customer-service reply."""

    category: str
    billable: bool
    pricing_type: str


SERVICE_BILLING = Billing(category="service", billable=False, pricing_type="free_customer_service")


def template_billing(template_category: str) -> Billing:
    return Billing(category=template_category.lower(), billable=True, pricing_type="regular")


def webhook_envelope(phone: PhoneNumber, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": phone.waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": phone.display_digits,
                                "phone_number_id": phone.phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def status_payload(
    phone: PhoneNumber,
    *,
    wamid: str,
    status: str,
    recipient_id: str,
    timestamp: int,
    callback_data: str | None = None,
    billing: Billing | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One status webhook; pass `billing` for `sent` and `errors` for `failed`."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    if billing is not None:
        item["conversation"] = {
            "id": secrets.token_hex(16),
            "expiration_timestamp": str(timestamp + CONVERSATION_SECONDS),
            "origin": {"type": billing.category},
        }
        item["pricing"] = {
            "billable": billing.billable,
            "pricing_model": "PMP",
            "type": billing.pricing_type,
            "category": billing.category,
        }
    if errors is not None:
        item["errors"] = errors
    return webhook_envelope(phone, {"statuses": [item]})


def inbound_text_payload(
    phone: PhoneNumber,
    *,
    wa_id: str,
    name: str,
    wamid: str,
    text: str,
    timestamp: int,
    context_id: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "text",
        "text": {"body": text},
    }
    if context_id:
        # Meta's shape for a reply: who sent the message replied to (our number) and its wamid.
        message["context"] = {
            "from": phone.display_phone_number.lstrip("+").replace(" ", ""),
            "id": context_id,
        }
    return webhook_envelope(
        phone, {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}
    )


def template_status_payload(
    waba_id: str, template: Template, *, event: str, reason: str | None, at: int
) -> dict[str, Any]:
    """The `message_template_status_update` webhook (reference §5.7)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "time": at,
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "event": event,
                            "message_template_id": int(template.id) if template.id.isdigit() else template.id,
                            "message_template_name": template.name,
                            "message_template_language": template.language,
                            "reason": reason or "NONE",
                            "message_template_category": template.category,
                        },
                    }
                ],
            }
        ],
    }
