"""Meta's error codes and what we do about each (reference §3.3; DESIGN §5).

Classes: ``soon`` (transient: retry with backoff), ``throttled`` (130429: seconds-scale backoff),
``pair`` (131056: 4^n seconds for that recipient only), ``long`` (hours or minutes), ``sender``
(the sender is unusable: pause it), ``permanent`` (retrying never helps).
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class ErrorClass(StrEnum):
    SOON = "soon"
    THROTTLED = "throttled"
    PAIR = "pair"
    LONG = "long"
    SENDER = "sender"
    PERMANENT = "permanent"


_CLASSES: dict[int, ErrorClass] = {
    0: ErrorClass.SENDER,
    1: ErrorClass.SOON,
    2: ErrorClass.SOON,
    3: ErrorClass.PERMANENT,
    4: ErrorClass.LONG,
    10: ErrorClass.SENDER,
    33: ErrorClass.SENDER,
    80007: ErrorClass.LONG,
    100: ErrorClass.PERMANENT,
    190: ErrorClass.SENDER,
    368: ErrorClass.SENDER,
    130403: ErrorClass.PERMANENT,
    130429: ErrorClass.THROTTLED,
    130472: ErrorClass.PERMANENT,
    130497: ErrorClass.PERMANENT,
    131000: ErrorClass.SOON,
    131005: ErrorClass.SENDER,
    131008: ErrorClass.PERMANENT,
    131009: ErrorClass.PERMANENT,
    131016: ErrorClass.SOON,
    131021: ErrorClass.PERMANENT,
    131026: ErrorClass.PERMANENT,
    131030: ErrorClass.PERMANENT,
    131031: ErrorClass.SENDER,
    131037: ErrorClass.SENDER,
    131042: ErrorClass.SENDER,
    131045: ErrorClass.SENDER,
    131047: ErrorClass.PERMANENT,
    131048: ErrorClass.SENDER,
    131049: ErrorClass.LONG,
    131050: ErrorClass.PERMANENT,
    131051: ErrorClass.PERMANENT,
    131052: ErrorClass.PERMANENT,
    131053: ErrorClass.PERMANENT,
    131056: ErrorClass.PAIR,
    131057: ErrorClass.SOON,
    131063: ErrorClass.PERMANENT,
    131064: ErrorClass.SENDER,
    132000: ErrorClass.PERMANENT,
    132001: ErrorClass.PERMANENT,
    132005: ErrorClass.PERMANENT,
    132007: ErrorClass.PERMANENT,
    132012: ErrorClass.PERMANENT,
    132015: ErrorClass.PERMANENT,
    132016: ErrorClass.PERMANENT,
    132068: ErrorClass.PERMANENT,
    132069: ErrorClass.LONG,
    133000: ErrorClass.PERMANENT,
    133004: ErrorClass.SOON,
    133010: ErrorClass.SENDER,
    135000: ErrorClass.PERMANENT,
}


def classify(code: int) -> ErrorClass:
    if code in _CLASSES:
        return _CLASSES[code]
    if 200 <= code <= 299:  # API permission missing
        return ErrorClass.SENDER
    if 133005 <= code <= 133016:  # two-step verification and registration problems
        return ErrorClass.SENDER
    return ErrorClass.PERMANENT


def is_retryable(error_class: ErrorClass) -> bool:
    return error_class in {ErrorClass.SOON, ErrorClass.THROTTLED, ErrorClass.PAIR, ErrorClass.LONG}


class MetaApiError(Exception):
    """Meta answered with an error body (reference §3.1)."""

    def __init__(self, code: int, message: str, *, http_status: int, details: str = "", fbtrace_id: str = ""):
        super().__init__(f"({code}) {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.details = details
        self.fbtrace_id = fbtrace_id

    @property
    def error_class(self) -> ErrorClass:
        return classify(self.code)


class MetaTransportError(Exception):
    """No usable answer: timeout, connection failure, or a body that is not Meta's shape."""

    def __init__(self, kind: str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.http_status = http_status


class _ErrorData(msgspec.Struct):
    details: str = ""


class _ErrorBody(msgspec.Struct):
    code: int
    message: str = ""
    error_data: _ErrorData | None = None
    fbtrace_id: str = ""


class ErrorEnvelope(msgspec.Struct):
    error: _ErrorBody
