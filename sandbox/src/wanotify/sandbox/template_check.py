"""Checks of a template send against the WABA's templates (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from wanotify.sandbox.errors import MetaError
from wanotify.sandbox.models import Template
from wanotify.sandbox.validation import invalid, missing

BODY_MAX = 1024
WHITESPACE_DETAILS = "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
MEDIA_HEADER_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})
REQUEST_COMPONENT_TYPES = frozenset({"header", "body", "button"})
VALUE_PARAM_TYPES = frozenset({"text", "currency", "date_time"})

_POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_BAD_WHITESPACE = re.compile(r"[\n\t]| {5,}")

# Parameter type -> required fields of the object under the key named after the type.
_PARAM_FIELDS: dict[str, tuple[str, ...]] = {
    "text": (),
    "currency": ("fallback_value", "code", "amount_1000"),
    "date_time": ("fallback_value",),
    "image": (),
    "video": (),
    "document": (),
    "location": ("latitude", "longitude"),
    "payload": (),
    "coupon_code": (),
    "action": (),
}


def find_template(templates: Sequence[Template], name: str, language: str) -> Template:
    """The template to send, or the Meta error for an unknown, untranslated or unsendable one."""
    for template in templates:
        if template.name == name and template.language == language:
            break
    else:
        raise MetaError(132001, f"template name ({name}) does not exist in {language}")
    if template.status == "PAUSED":
        raise MetaError(132015, f"Template {name} is paused.")
    if template.status == "DISABLED":
        raise MetaError(132016, f"Template {name} is disabled.")
    if template.status != "APPROVED":
        raise MetaError(
            132001, f"template name ({name}) is not approved in {language} (status {template.status})"
        )
    return template


def placeholders(text: str, parameter_format: str) -> list[str]:
    """Distinct placeholders of a template text, in order of first appearance."""
    pattern = _NAMED if parameter_format == "NAMED" else _POSITIONAL
    return list(dict.fromkeys(pattern.findall(text)))


def _template_component(template: Template, kind: str) -> dict[str, Any] | None:
    for component in template.components:
        if str(component.get("type", "")).upper() == kind:
            return component
    return None


def _check_param(param: Any, path: str) -> dict[str, Any]:
    if not isinstance(param, dict):
        raise invalid(f"Param {path} must be an object.")
    kind = param.get("type")
    if not kind:
        raise missing(f"{path}['type']")
    if kind not in _PARAM_FIELDS:
        raise invalid(f"Param {path}['type'] must be one of {sorted(_PARAM_FIELDS)}.")
    if kind == "text":
        if not isinstance(param.get("text"), str):
            raise missing(f"{path}['text']")
        return param
    payload = param.get(kind)
    if kind in ("payload", "coupon_code"):
        if not isinstance(payload, str) or not payload:
            raise missing(f"{path}['{kind}']")
        return param
    if not isinstance(payload, dict):
        raise missing(f"{path}['{kind}']")
    for field in _PARAM_FIELDS[kind]:
        if payload.get(field) is None:
            raise missing(f"{path}['{kind}']['{field}']")
    if kind == "currency" and (
        isinstance(payload["amount_1000"], bool) or not isinstance(payload["amount_1000"], int)
    ):
        raise invalid(f"Param {path}['currency']['amount_1000'] must be an integer.")
    if kind in ("image", "video", "document") and not (payload.get("link") or payload.get("id")):
        raise missing(f"{path}['{kind}']['link'] or {path}['{kind}']['id']")
    return param


def _request_components(content: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Parameters per request component: `header`, `body` and `button:<index>`."""
    components = content.get("components", [])
    if not isinstance(components, list):
        raise invalid("Param template['components'] must be a list.")
    found: dict[str, list[dict[str, Any]]] = {}
    for index, component in enumerate(components):
        path = f"template['components'][{index}]"
        if not isinstance(component, dict):
            raise invalid(f"Param {path} must be an object.")
        kind = str(component.get("type") or "").lower()
        if not kind:
            raise missing(f"{path}['type']")
        if kind not in REQUEST_COMPONENT_TYPES:
            raise invalid(f"Param {path}['type'] must be one of HEADER, BODY, BUTTON.")
        key = kind
        if kind == "button":
            if not component.get("sub_type"):
                raise missing(f"{path}['sub_type']")
            if component.get("index") is None:
                raise missing(f"{path}['index']")
            key = f"button:{component['index']}"
        if key in found:
            raise invalid(f"Param {path} repeats component {key}.")
        params = component.get("parameters", [])
        if not isinstance(params, list):
            raise invalid(f"Param {path}['parameters'] must be a list.")
        found[key] = [_check_param(p, f"{path}['parameters'][{i}]") for i, p in enumerate(params)]
    return found


def _count_mismatch(component: str, given: int, expected: int) -> MetaError:
    return MetaError(
        132000,
        f"{component}: number of localizable_params ({given}) does not match the expected number of params "
        f"({expected})",
    )


def _param_value(param: dict[str, Any]) -> str:
    if param["type"] == "text":
        return str(param["text"])
    return str(param[param["type"]]["fallback_value"])


def _check_text_params(
    component: str, text: str, params: list[dict[str, Any]], parameter_format: str
) -> dict[str, str]:
    """Check the parameters of a text with placeholders; returns placeholder -> value."""
    expected = placeholders(text, parameter_format)
    if len(params) != len(expected):
        raise _count_mismatch(component, len(params), len(expected))
    for param in params:
        if param["type"] not in VALUE_PARAM_TYPES:
            raise MetaError(
                132012, f"{component}: Format mismatch, expected TEXT, received {param['type'].upper()}"
            )
    if parameter_format == "NAMED":
        names = [p.get("parameter_name") for p in params]
        if set(names) != set(expected) or len(set(names)) != len(names):
            raise MetaError(
                132000,
                f"{component}: parameter names {sorted(str(n) for n in names)} do not match the template's "
                f"named params {sorted(expected)}",
            )
        values = {str(p["parameter_name"]): _param_value(p) for p in params}
    else:
        values = {name: _param_value(p) for name, p in zip(expected, params, strict=True)}
    for param in params:
        if param["type"] == "text" and _BAD_WHITESPACE.search(param["text"]):
            raise invalid(WHITESPACE_DETAILS)
    return values


def _fill(text: str, values: dict[str, str], parameter_format: str) -> str:
    pattern = _NAMED if parameter_format == "NAMED" else _POSITIONAL
    return pattern.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _check_header(template: Template, params: list[dict[str, Any]] | None) -> None:
    header = _template_component(template, "HEADER")
    header_format = str(header.get("format", "TEXT")).upper() if header else ""
    if header_format in MEDIA_HEADER_FORMATS:
        received = params[0]["type"].upper() if params else "UNKNOWN"
        if not params or len(params) != 1 or received != header_format:
            raise MetaError(132012, f"header: Format mismatch, expected {header_format}, received {received}")
        return
    header_text = str(header.get("text", "")) if header else ""
    _check_text_params("header", header_text, params or [], template.parameter_format)


def _check_buttons(template: Template, found: dict[str, list[dict[str, Any]]]) -> None:
    buttons_component = _template_component(template, "BUTTONS")
    buttons = buttons_component.get("buttons", []) if buttons_component else []
    for index, button in enumerate(buttons if isinstance(buttons, list) else []):
        if not isinstance(button, dict) or str(button.get("type", "")).upper() != "URL":
            continue
        expected = len(placeholders(str(button.get("url", "")), "POSITIONAL"))
        given = len(found.get(f"button:{index}", []))
        if expected and given != expected:
            raise _count_mismatch(f"button {index}", given, expected)


def check_template_request(template: Template, content: dict[str, Any]) -> str:
    """Validate the request's components against the template; returns the filled-in body."""
    found = _request_components(content)
    _check_header(template, found.get("header"))
    body = _template_component(template, "BODY")
    body_text = str(body.get("text", "")) if body else ""
    values = _check_text_params("body", body_text, found.get("body", []), template.parameter_format)
    _check_buttons(template, found)
    filled = _fill(body_text, values, template.parameter_format)
    if len(filled) > BODY_MAX:
        raise MetaError(
            132005, f"body: the text after filling in parameters is {len(filled)} characters long"
        )
    return filled


def template_reference(content: dict[str, Any]) -> tuple[str, str]:
    """The (name, language code) a template send asks for."""
    name = content.get("name")
    if not name:
        raise missing("template['name']")
    if not isinstance(name, str):
        raise invalid("Param template['name'] must be a string.")
    language = content.get("language")
    if not isinstance(language, dict) or not language.get("code"):
        raise missing("template['language']['code']")
    if not isinstance(language["code"], str):
        raise invalid("Param template['language']['code'] must be a string.")
    return name, language["code"]
