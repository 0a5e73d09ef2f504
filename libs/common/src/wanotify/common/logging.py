"""JSON log lines with trace ids; phone numbers masked and secrets redacted before anything is written."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

from opentelemetry import trace

_PHONE = re.compile(r"(?<![\w.])\+?(\d{4})(\d{3,8})(\d{3})(?!\w)")
_SECRET_KEYS = ("token", "secret", "password", "authorization", "api_key", "key_hash")
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def mask_phone(text: str) -> str:
    """``+1234567890`` → ``+1234***890``: enough to tell numbers apart, not enough to dial."""
    return _PHONE.sub(lambda m: f"+{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}", text)


def _scrub(key: str, value: Any) -> Any:
    if any(s in key.lower() for s in _SECRET_KEYS):
        return "[REDACTED]"
    if isinstance(value, str):
        return mask_phone(value)
    if isinstance(value, dict):
        return {k: _scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(key, v) for v in value]
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
