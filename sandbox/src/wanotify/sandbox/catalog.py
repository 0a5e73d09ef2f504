"""Parsing phone numbers, templates and the seed file from plain JSON."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from wanotify.sandbox.ids import new_numeric_id
from wanotify.sandbox.models import PhoneNumber, Template

PARAMETER_FORMATS = ("POSITIONAL", "NAMED")


def _required_str(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what}: '{key}' must be a non-empty string")
    return value


def parse_phone_number(obj: Any) -> PhoneNumber:
    if not isinstance(obj, Mapping):
        raise ValueError("phone number: expected an object")
    what = "phone number"
    return PhoneNumber(
        phone_number_id=_required_str(obj, "phone_number_id", what),
        waba_id=_required_str(obj, "waba_id", what),
        access_token=_required_str(obj, "access_token", what),
        display_phone_number=_required_str(obj, "display_phone_number", what),
        throughput_mps=parse_throughput(obj.get("throughput_mps")),
        messaging_limit=parse_messaging_limit(obj.get("messaging_limit")),
    )


def parse_messaging_limit(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("phone number: 'messaging_limit' must be an integer of at least 1")
    return value


def parse_throughput(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError("phone number: 'throughput_mps' must be a number greater than 0")
    return float(value)


def parse_template(obj: Any) -> tuple[str, Template]:
    """Parse `{"waba_id": ..., <Meta template object>}`; the id is generated when missing."""
    if not isinstance(obj, Mapping):
        raise ValueError("template: expected an object")
    what = "template"
    waba_id = _required_str(obj, "waba_id", what)
    components = obj.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise ValueError("template: 'components' must be a list of objects")
    parameter_format = str(obj.get("parameter_format") or "POSITIONAL").upper()
    if parameter_format not in PARAMETER_FORMATS:
        raise ValueError("template: 'parameter_format' must be POSITIONAL or NAMED")
    template_id = obj.get("id")
    template = Template(
        id=str(template_id) if template_id else new_numeric_id(),
        name=_required_str(obj, "name", what),
        language=_required_str(obj, "language", what),
        status=str(obj.get("status") or "APPROVED").upper(),
        category=str(obj.get("category") or "UTILITY").upper(),
        parameter_format=parameter_format,
        components=[dict(c) for c in components],
    )
    return waba_id, template


class Seed(msgspec.Struct, frozen=True):
    phone_numbers: list[PhoneNumber]
    templates: list[tuple[str, Template]]


def load_seed(path: str) -> Seed:
    """Read the seed file: `{"phone_numbers": [...], "templates": [{"waba_id", ...}]}`."""
    raw = msgspec.json.decode(Path(path).read_bytes())
    if not isinstance(raw, dict):
        raise ValueError(f"seed file {path}: expected a JSON object")
    phones = raw.get("phone_numbers", [])
    templates = raw.get("templates", [])
    if not isinstance(phones, list) or not isinstance(templates, list):
        raise ValueError(f"seed file {path}: 'phone_numbers' and 'templates' must be lists")
    return Seed(
        phone_numbers=[parse_phone_number(p) for p in phones],
        templates=[parse_template(t) for t in templates],
    )
