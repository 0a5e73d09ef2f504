"""JSON log lines with trace ids; phone numbers masked and secrets redacted before anything is written.

Fields are judged by their name first: a field named like a secret is redacted, one named like a
phone number (``recipient``, ``to``, ``wa_id``...) is always masked, one named like an id
(``id``, ``*_id``, ``wamid``...) never is. Free text (the message, an exception) only loses what
looks like a number: ``+`` and 10 to 15 digits, or a bare run of 10 to 15 digits (a ``wa_id``)
that is not part of a longer token and not the value of an id (``phone_number_id=1065…``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any, Literal

from opentelemetry import trace

Kind = Literal["secret", "phone", "id", "text"]

_NUMBER = re.compile(
    r"(?:(?<![\w+])\+|(?<![\w.+-]))"  # a "+" that starts a token, or a digit that starts one
    r"(?P<head>\d{4})(?P<middle>\d{3,8})(?P<tail>\d{3})"
    r"(?!\w|\.\d)"
)
# The name right before a value in free text: `phone_number_id=`, `waba_id: `, `"wamid": "`.
_NAME_BEFORE = re.compile(r"([A-Za-z][\w-]*)[\\\"']*\s*(?:[:=]\s*)?[\\\"']*\Z")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_SECRET_WORDS = ("token", "secret", "password", "authorization", "api_key", "key_hash")
_PHONE_WORDS = ("phone", "msisdn")
_PHONE_NAMES = frozenset({"to", "from", "recipient", "recipients", "to_number", "from_number"})
# Meta's ids that are phone numbers: a wa_id (and a status's recipient_id) is the number without "+".
_PHONE_ID_SUFFIXES = ("wa_id", "wa_ids", "recipient_id", "recipient_ids")
_ID_NAMES = frozenset({"id", "ids", "wamid", "wamids", "traceparent", "tracestate"})
_ID_SUFFIXES = ("_id", "_ids")

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def field_kind(name: str) -> Kind:
    """What a field holds, judged by its name (``phoneNumberId`` and ``X-Request-Id`` too)."""
    key = _CAMEL.sub("_", name).lower().replace("-", "_")
    if any(word in key for word in _SECRET_WORDS):
        return "secret"
    if key.endswith(_PHONE_ID_SUFFIXES):
        return "phone"
    if key in _ID_NAMES or key.endswith(_ID_SUFFIXES):
        return "id"
    if key in _PHONE_NAMES or any(word in key for word in _PHONE_WORDS):
        return "phone"
    return "text"


def _masked(head: str, middle: str, tail: str) -> str:
    return f"{head}{'*' * len(middle)}{tail}"


def _mask_match(match: re.Match[str]) -> str:
    found = match.group(0)
    plus = found.startswith("+")
    if not plus:
        name = _NAME_BEFORE.search(match.string, max(0, match.start() - 64), match.start())
        if name is not None and field_kind(name.group(1)) == "id":
            return found
    return ("+" if plus else "") + _masked(match["head"], match["middle"], match["tail"])


def mask_phone(text: str) -> str:
    """Free text: ``+14155550123`` → ``+1415****123``; ids and short numbers are left alone."""
    return _NUMBER.sub(_mask_match, text)


def mask_phone_value(value: str) -> str:
    """A value that is a phone number as a whole: every digit but the first 4 and last 3 is hidden
    (fewer are kept from a short value), whatever its formatting."""
    digits = sum(c.isdigit() for c in value)
    keep_head = 4 if digits >= 10 else 0
    keep_tail = 3 if digits >= 7 else 0
    out: list[str] = []
    seen = 0
    for c in value:
        if c.isdigit():
            seen += 1
            out.append("*" if keep_head < seen <= digits - keep_tail else c)
        else:
            out.append(c)
    return "".join(out)


def _scrub(key: str, value: Any) -> Any:
    kind = field_kind(key)
    return "[REDACTED]" if kind == "secret" else _clean(kind, value)


def _clean(kind: Kind, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(kind, v) for v in value]
    if kind == "id":
        return value
    if kind == "phone":
        if isinstance(value, str):
            return mask_phone_value(value)
        # a count under a phone-ish name stays a number; a wa_id logged as an int does not
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**6:
            return mask_phone_value(str(value))
        return value
    if isinstance(value, str):
        return mask_phone(value)
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": mask_phone(record.getMessage()),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            entry["trace_id"] = format(ctx.trace_id, "032x")
            entry["span_id"] = format(ctx.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _scrub(key, value)
        if record.exc_info:
            entry["error"] = mask_phone(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "botocore", "urllib3", "httpx", "httpcore", "aiobotocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
