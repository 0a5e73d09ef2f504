"""Domain errors. Services raise these; each HTTP app maps them to responses in one table."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``code`` is the stable, machine-readable error code clients see."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, field=field)
        if code is not None:
            self.code = code


class MalformedJson(DomainError):
    code = "MALFORMED_JSON"


class UnsupportedMediaType(DomainError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class Unauthorized(DomainError):
    """401: ``UNAUTHORIZED`` (no key, or an unknown one), ``API_KEY_EXPIRED``, ``API_KEY_REVOKED``."""

    code = "UNAUTHORIZED"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, field=field)
        if code is not None:
            self.code = code


class Forbidden(DomainError):
    code = "FORBIDDEN"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, field=field)
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "NOT_FOUND"


class IdempotencyConflict(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


class NoSender(DomainError):
    code = "NO_SENDER"


class DependencyUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"


class Unprocessable(DomainError):
    """Well-formed but refused by a business rule (HTTP 422)."""

    code = "UNPROCESSABLE"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, field=field)
        if code is not None:
            self.code = code


class NotCancelable(DomainError):
    """The notification was already handed to Meta (or is final): HTTP 409."""

    code = "NOT_CANCELABLE"
