"""Checks of a send request: the envelope and each non-template message type (pure functions)."""

from __future__ import annotations

from typing import Any, NamedTuple

from wanotify.sandbox.errors import MetaError

SUPPORTED_TYPES = (
    "text",
    "template",
    "image",
    "document",
    "video",
    "audio",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
)
MEDIA_TYPES = frozenset({"image", "document", "video", "audio", "sticker"})
CAPTIONED_TYPES = frozenset({"image", "document", "video"})
RECIPIENT_TYPES = frozenset({"individual", "group"})
INTERACTIVE_TYPES = frozenset(
    {"button", "list", "cta_url", "flow", "location_request_message", "product", "product_list"}
)

TEXT_BODY_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX = 512
RECIPIENT_DIGITS_MIN = 7
RECIPIENT_DIGITS_MAX = 15
BUTTON_TITLE_MAX = 20
REPLY_BUTTONS_MAX = 3
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
INTERACTIVE_BUTTON_BODY_MAX = 1024

_RECIPIENT_PUNCTUATION = str.maketrans("", "", "+-() ")


class Envelope(NamedTuple):
    to: str
    wa_id: str
    type: str
    content: dict[str, Any] | list[Any]
    callback_data: str | None


def missing(parameter: str) -> MetaError:
    return MetaError(131008, f"The parameter {parameter} is required.")


def invalid(details: str) -> MetaError:
    return MetaError(100, details)


def normalize_recipient(to: str) -> str:
    """The wa_id for a `to` value: `+ - ( )` and spaces dropped, 7 to 15 digits left."""
    digits = to.translate(_RECIPIENT_PUNCTUATION)
    if not digits.isascii() or not digits.isdigit():
        raise MetaError(131009, f"Invalid recipient {to!r}: only digits, spaces and + - ( ) are allowed.")
    if not RECIPIENT_DIGITS_MIN <= len(digits) <= RECIPIENT_DIGITS_MAX:
        raise MetaError(
            131009,
            f"Invalid recipient {to!r}: expected {RECIPIENT_DIGITS_MIN} to {RECIPIENT_DIGITS_MAX} digits.",
        )
    return digits


def validate_envelope(payload: Any) -> Envelope:
    if not isinstance(payload, dict):
        raise invalid("The request body must be a JSON object.")
    if "messaging_product" not in payload:
        raise invalid("The parameter messaging_product is required.")
    if payload["messaging_product"] != "whatsapp":
        raise invalid("Param messaging_product must be 'whatsapp'.")
    recipient_type = payload.get("recipient_type", "individual")
    if recipient_type not in RECIPIENT_TYPES:
        raise invalid("Param recipient_type must be one of {INDIVIDUAL, GROUP}.")
    to = payload.get("to")
    if to is None or to == "":
        raise missing("to")
    if not isinstance(to, str):
        raise invalid("Param to must be a string.")
    wa_id = normalize_recipient(to)
    message_type = payload.get("type")
    if message_type is None or message_type == "":
        raise missing("type")
    if message_type not in SUPPORTED_TYPES:
        raise invalid(f"Param type must be one of {{{', '.join(t.upper() for t in SUPPORTED_TYPES)}}}.")
    content = payload.get(message_type)
    if content is None:
        raise missing(message_type)
    # `contacts` is the one type whose object is a list.
    if message_type == "contacts":
        if not isinstance(content, list):
            raise invalid("Param contacts must be a list of contact objects.")
    elif not isinstance(content, dict):
        raise invalid(f"Param {message_type} must be a JSON object.")
    callback_data = payload.get("biz_opaque_callback_data")
    if callback_data is not None and (
        not isinstance(callback_data, str) or len(callback_data) > CALLBACK_DATA_MAX
    ):
        raise invalid(
            f"Param biz_opaque_callback_data must be a string of at most {CALLBACK_DATA_MAX} characters."
        )
    context = payload.get("context")
    if context is not None and not (isinstance(context, dict) and isinstance(context.get("message_id"), str)):
        raise invalid("Param context must be an object with a message_id string.")
    return Envelope(
        to=to, wa_id=wa_id, type=message_type, content=content, callback_data=callback_data or None
    )


def _string(
    content: dict[str, Any], key: str, path: str, *, required: bool, max_length: int | None = None
) -> None:
    value = content.get(key)
    if value is None:
        if required:
            raise missing(f"{path}['{key}']")
        return
    if not isinstance(value, str):
        raise invalid(f"Param {path}['{key}'] must be a string.")
    if required and not value:
        raise missing(f"{path}['{key}']")
    if max_length is not None and len(value) > max_length:
        raise invalid(f"Param {path}['{key}'] must be at most {max_length} characters long.")


def validate_text(content: dict[str, Any]) -> None:
    _string(content, "body", "text", required=True, max_length=TEXT_BODY_MAX)
    preview_url = content.get("preview_url")
    if preview_url is not None and not isinstance(preview_url, bool):
        raise invalid("Param text['preview_url'] must be a boolean.")


def validate_media(message_type: str, content: dict[str, Any]) -> None:
    link, media_id = content.get("link"), content.get("id")
    if not link and not media_id:
        raise missing(f"{message_type}['link'] or {message_type}['id']")
    if link is not None and not (isinstance(link, str) and link.startswith(("http://", "https://"))):
        raise MetaError(131009, f"Param {message_type}['link'] must be an http(s) URL.")
    if media_id is not None and not isinstance(media_id, str):
        raise invalid(f"Param {message_type}['id'] must be a string.")
    if message_type in CAPTIONED_TYPES:
        _string(content, "caption", message_type, required=False, max_length=CAPTION_MAX)
    if message_type == "document":
        _string(content, "filename", message_type, required=False)


def validate_location(content: dict[str, Any]) -> None:
    for key in ("latitude", "longitude"):
        value = content.get(key)
        if value is None:
            raise missing(f"location['{key}']")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise invalid(f"Param location['{key}'] must be a number.")
        try:
            float(value)
        except ValueError:
            raise invalid(f"Param location['{key}'] must be a number.") from None
    _string(content, "name", "location", required=False)
    _string(content, "address", "location", required=False)


def validate_contacts(contacts: list[Any]) -> None:
    if not contacts:
        raise invalid("Param contacts must be a non-empty list of contact objects.")
    for index, contact in enumerate(contacts):
        if not isinstance(contact, dict):
            raise invalid(f"Param contacts[{index}] must be an object.")
        name = contact.get("name")
        if not isinstance(name, dict):
            raise missing(f"contacts[{index}]['name']")
        _string(name, "formatted_name", f"contacts[{index}]['name']", required=True)


def validate_interactive(content: dict[str, Any]) -> None:
    kind = content.get("type")
    if not kind:
        raise missing("interactive['type']")
    if kind not in INTERACTIVE_TYPES:
        raise invalid(f"Param interactive['type'] must be one of {sorted(INTERACTIVE_TYPES)}.")
    action = content.get("action")
    if not isinstance(action, dict):
        raise missing("interactive['action']")
    if kind in ("button", "list"):
        body = content.get("body")
        if not isinstance(body, dict):
            raise missing("interactive['body']")
        body_max = INTERACTIVE_BUTTON_BODY_MAX if kind == "button" else TEXT_BODY_MAX
        _string(body, "text", "interactive['body']", required=True, max_length=body_max)
    if kind == "button":
        _validate_reply_buttons(action)
    elif kind == "list":
        _string(action, "button", "interactive['action']", required=True, max_length=LIST_BUTTON_MAX)
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections:
            raise missing("interactive['action']['sections']")
        if len(sections) > LIST_SECTIONS_MAX:
            raise invalid(
                f"Param interactive['action']['sections'] allows at most {LIST_SECTIONS_MAX} sections."
            )


def _validate_reply_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise missing("interactive['action']['buttons']")
    if len(buttons) > REPLY_BUTTONS_MAX:
        raise invalid(f"Param interactive['action']['buttons'] allows at most {REPLY_BUTTONS_MAX} buttons.")
    for index, button in enumerate(buttons):
        path = f"interactive['action']['buttons'][{index}]"
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict):
            raise missing(f"{path}['reply']")
        _string(reply, "id", f"{path}['reply']", required=True)
        _string(reply, "title", f"{path}['reply']", required=True, max_length=BUTTON_TITLE_MAX)


def validate_reaction(content: dict[str, Any]) -> None:
    _string(content, "message_id", "reaction", required=True)
    if not isinstance(content.get("emoji"), str):
        raise missing("reaction['emoji']")


def validate_free_form(message_type: str, content: dict[str, Any] | list[Any]) -> None:
    """Per-type checks for every type but `template`."""
    if isinstance(content, list):
        validate_contacts(content)
    elif message_type == "text":
        validate_text(content)
    elif message_type in MEDIA_TYPES:
        validate_media(message_type, content)
    elif message_type == "location":
        validate_location(content)
    elif message_type == "interactive":
        validate_interactive(content)
    elif message_type == "reaction":
        validate_reaction(content)
