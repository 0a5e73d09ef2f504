"""Meta's error codes, their HTTP statuses and titles, and the Graph error body."""

from __future__ import annotations

from typing import Any, NamedTuple

from wanotify.sandbox.ids import new_fbtrace_id

ERROR_CODES_HREF = "/documentation/business-messaging/whatsapp/support/error-codes"


class ErrorInfo(NamedTuple):
    http_status: int
    title: str


# HTTP statuses follow Meta's pre-2025 table (reference §3.3); webhook-only codes answer 400 when injected
# synchronously. Titles are Meta's.
ERROR_TABLE: dict[int, ErrorInfo] = {
    0: ErrorInfo(401, "AuthException"),
    1: ErrorInfo(400, "API Unknown"),
    2: ErrorInfo(503, "API Service"),
    3: ErrorInfo(500, "API Method"),
    4: ErrorInfo(400, "API Too Many Calls"),
    10: ErrorInfo(403, "API Permission Denied"),
    33: ErrorInfo(400, "Parameter value is not valid"),
    100: ErrorInfo(400, "Invalid parameter"),
    190: ErrorInfo(401, "Access token has expired"),
    200: ErrorInfo(403, "API Permission"),
    368: ErrorInfo(403, "Temporarily blocked for policies violations"),
    80007: ErrorInfo(400, "Rate limit issues"),
    130403: ErrorInfo(400, "Business has blocked this user"),
    130429: ErrorInfo(400, "Rate limit hit"),
    130472: ErrorInfo(400, "User's number is part of an experiment"),
    130497: ErrorInfo(403, "Business account is restricted from messaging users in this country"),
    131000: ErrorInfo(500, "Something went wrong"),
    131005: ErrorInfo(403, "Access denied"),
    131008: ErrorInfo(400, "Required parameter is missing"),
    131009: ErrorInfo(400, "Parameter value is not valid"),
    131016: ErrorInfo(500, "Service unavailable"),
    131021: ErrorInfo(400, "Recipient cannot be sender"),
    131026: ErrorInfo(400, "Message undeliverable"),
    131030: ErrorInfo(400, "Recipient phone number not in allowed list"),
    131031: ErrorInfo(403, "Account has been locked"),
    131037: ErrorInfo(400, "WhatsApp provided number needs display name approval before message can be sent"),
    131042: ErrorInfo(400, "Business eligibility payment issue"),
    131045: ErrorInfo(500, "Incorrect certificate"),
    131047: ErrorInfo(400, "Re-engagement message"),
    131048: ErrorInfo(400, "Spam rate limit hit"),
    131049: ErrorInfo(400, "This message was not delivered to maintain healthy ecosystem engagement"),
    131050: ErrorInfo(400, "User has stopped marketing messages"),
    131051: ErrorInfo(400, "Unsupported message type"),
    131052: ErrorInfo(400, "Media download error"),
    131053: ErrorInfo(400, "Media upload error"),
    131056: ErrorInfo(400, "(Business Account, Consumer Account) pair rate limit hit"),
    131057: ErrorInfo(500, "Account in maintenance mode"),
    131063: ErrorInfo(400, "Marketing messages are not allowed for this WhatsApp Business Account"),
    131064: ErrorInfo(400, "Messaging limit reached due to template classification violations"),
    132000: ErrorInfo(400, "Number of parameters does not match the expected number of params"),
    132001: ErrorInfo(404, "Template name does not exist in the translation"),
    132005: ErrorInfo(400, "Translated text too long"),
    132007: ErrorInfo(400, "Template Format Character Policy Violated"),
    132012: ErrorInfo(400, "Parameter format does not match format in the created template"),
    132015: ErrorInfo(400, "Template is Paused"),
    132016: ErrorInfo(400, "Template is Disabled"),
    132068: ErrorInfo(400, "Flow is in blocked state"),
    132069: ErrorInfo(400, "Flow is in throttled state"),
    133000: ErrorInfo(500, "Incomplete Deregistration"),
    133004: ErrorInfo(503, "Server Temporarily Unavailable"),
    133005: ErrorInfo(400, "Two step verification PIN Mismatch"),
    133006: ErrorInfo(400, "Phone number re-verification needed"),
    133007: ErrorInfo(400, "Too many two step verification PIN guesses"),
    133008: ErrorInfo(400, "Too Many two step verification PIN Guesses for this phone number"),
    133009: ErrorInfo(400, "Two step verification PIN Guessed Too Fast"),
    133010: ErrorInfo(400, "Phone number Not Registered"),
    133015: ErrorInfo(400, "Please wait a few minutes before attempting to register this phone number"),
    133016: ErrorInfo(400, "Account register deregister rate limit exceeded"),
    135000: ErrorInfo(400, "Generic user error"),
}

# Meta documents 200-299 as one range: "API Permission" (403).
PERMISSION_RANGE = range(200, 300)

_UNKNOWN = ErrorInfo(400, "Unknown error")

DEFAULT_DETAILS: dict[int, str] = {
    131026: "Message Undeliverable.",
    131047: (
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number."
    ),
    131049: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    130429: "Cloud API message throughput has been reached.",
    131056: "Message failed to send because there were too many messages sent from this phone number "
    "to the same phone number in a short period of time.",
}

INVALID_TOKEN_MESSAGE = "Invalid OAuth access token - Cannot parse access token"  # noqa: S105


def error_info(code: int) -> ErrorInfo:
    info = ERROR_TABLE.get(code)
    if info is not None:
        return info
    if code in PERMISSION_RANGE:
        return ERROR_TABLE[200]
    return _UNKNOWN


class MetaError(Exception):
    """A Graph API error, answered synchronously with Meta's body and HTTP status."""

    def __init__(self, code: int, details: str | None = None, *, message: str | None = None) -> None:
        info = error_info(code)
        self.code = code
        self.http_status = info.http_status
        self.title = info.title
        self.details = details if details is not None else DEFAULT_DETAILS.get(code, info.title)
        self.message = message if message is not None else f"(#{code}) {info.title}"
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": "OAuthException",
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details},
                "fbtrace_id": new_fbtrace_id(),
            }
        }


def invalid_token() -> MetaError:
    return MetaError(190, INVALID_TOKEN_MESSAGE, message=INVALID_TOKEN_MESSAGE)


def webhook_error(code: int, details: str | None = None) -> dict[str, Any]:
    """The error object carried by a `failed` status webhook (reference §5.4)."""
    info = error_info(code)
    return {
        "code": code,
        "title": info.title,
        "message": info.title,
        "error_data": {"details": details if details is not None else DEFAULT_DETAILS.get(code, info.title)},
        "href": ERROR_CODES_HREF,
    }
