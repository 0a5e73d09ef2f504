"""Templates as Meta lists them, and the ingest checks against them (pure functions).

A send names a template and a locale; the tenant's fallback chain (``TenantPolicy.language_fallback``)
picks the first APPROVED locale; the parameters must then match the template's placeholders:
positional (``{{1}}``: count and no names) or named (``{{first_name}}``: exactly those names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from wanotify.common.domain.errors import Unprocessable
from wanotify.common.domain.message import TemplateContent

APPROVED = "APPROVED"
MEDIA_HEADER_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT"})

_POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


class Template(msgspec.Struct, frozen=True):
    id: str
    tenant_id: str
    waba_id: str
    name: str
    language: str
    status: str
    parameter_format: str
    components: list[dict[str, Any]]
    meta_id: str | None = None
    category: str | None = None
    synced_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def named(self) -> bool:
        return self.parameter_format.upper() == "NAMED"


class MetaTemplate(msgspec.Struct, frozen=True):
    """One item of ``GET /{waba-id}/message_templates`` (unknown fields ignored)."""

    name: str
    language: str
    status: str
    id: str | None = None
    category: str | None = None
    parameter_format: str | None = None
    components: list[dict[str, Any]] = []


def normalize_language(code: str) -> str:
    """Meta's template webhook spells ``en-US``; the API and our registry use ``en_US``."""
    return code.strip().replace("-", "_")


def placeholders(text: str, named: bool) -> list[str]:
    """Distinct placeholders of a template text, in order of first appearance."""
    return list(dict.fromkeys((_NAMED if named else _POSITIONAL).findall(text)))


def component(template: Template, kind: str) -> dict[str, Any] | None:
    for c in template.components:
        if str(c.get("type", "")).upper() == kind:
            return c
    return None


def language_chain(requested: str, fallback: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys([requested, *fallback.get(requested, [])]))


def resolve(
    templates: Sequence[Template], name: str, requested: str, fallback: dict[str, list[str]]
) -> Template:
    """The template to send: the first APPROVED locale of the chain, or a 422 saying why not."""
    by_language = {t.language: t for t in templates if t.name == name}
    chain = language_chain(requested, fallback)
    for language in chain:
        found = by_language.get(language)
        if found is not None and found.status.upper() == APPROVED:
            return found
    present = [by_language[lang] for lang in chain if lang in by_language]
    if present:
        states = ", ".join(f"{t.language} is {t.status}" for t in present)
        raise Unprocessable(
            f"Template '{name}' is not approved in {', '.join(chain)} ({states})",
            field="template.language",
            code="TEMPLATE_NOT_APPROVED",
        )
    known = sorted(by_language)
    hint = f"; it exists in {', '.join(known)}" if known else ""
    raise Unprocessable(
        f"Template '{name}' does not exist in {', '.join(chain)}{hint}",
        field="template.name" if not known else "template.language",
        code="TEMPLATE_NOT_FOUND",
    )


def _mismatch(message: str, field: str) -> Unprocessable:
    return Unprocessable(message, field=field, code="TEMPLATE_PARAMETER_MISMATCH")


def _check_names(
    what: str, expected: list[str], given: Iterable[str | None], named: bool, field: str
) -> None:
    names = list(given)
    if named:
        if any(n is None for n in names):
            raise _mismatch(f"{what}: this template uses named parameters; give each a 'name'", field)
        if sorted(n for n in names if n) != sorted(expected):
            raise _mismatch(
                f"{what}: parameter names {sorted(n for n in names if n)} do not match the template's "
                f"{sorted(expected)}",
                field,
            )
        return
    if any(n is not None for n in names):
        raise _mismatch(f"{what}: this template uses positional parameters; drop 'name'", field)
    if len(names) != len(expected):
        raise _mismatch(f"{what}: {len(names)} parameters given, the template has {len(expected)}", field)


MAX_FILLED_BODY = 1024


def check_filled_body(template: Template, content: TemplateContent) -> None:
    """Meta refuses a body longer than 1024 characters once filled in (132005): say so at ingest."""
    body = component(template, "BODY")
    if body is None:
        return
    named = template.named
    values = (
        {p.name: p.value for p in content.parameters if p.name}
        if named
        else {str(i + 1): p.value for i, p in enumerate(content.parameters)}
    )
    pattern = _NAMED if named else _POSITIONAL
    filled = pattern.sub(lambda m: values.get(m.group(1), m.group(0)), str(body.get("text", "")))
    if len(filled) > MAX_FILLED_BODY:
        raise Unprocessable(
            f"The template body is {len(filled)} characters once filled in; Meta allows {MAX_FILLED_BODY}",
            field="template.parameters",
            code="TEMPLATE_BODY_TOO_LONG",
        )


def check_parameters(template: Template, content: TemplateContent) -> None:
    """Body, header and button parameters against the template (422 TEMPLATE_PARAMETER_MISMATCH)."""
    named = template.named
    body = component(template, "BODY")
    expected_body = placeholders(str(body.get("text", "")) if body else "", named)
    _check_names("body", expected_body, [p.name for p in content.parameters], named, "template.parameters")

    header = component(template, "HEADER")
    header_format = str(header.get("format", "TEXT")).upper() if header else ""
    given = content.header
    if header_format in MEDIA_HEADER_FORMATS:
        if given is None or given.type.upper() != header_format:
            raise _mismatch(
                f"header: the template's header is {header_format}; give template.header with "
                f"type {header_format.lower()} and a link",
                "template.header",
            )
    elif header_format and header_format != "TEXT":
        raise _mismatch(f"header: {header_format} headers are not supported", "template.header")
    else:
        expected_header = placeholders(str(header.get("text", "")) if header else "", named)
        if given is not None and given.type != "text":
            raise _mismatch("header: the template's header is text, not media", "template.header")
        _check_names(
            "header",
            expected_header,
            [given.name] if given is not None else [],
            named,
            "template.header",
        )

    buttons_component = component(template, "BUTTONS")
    buttons = buttons_component.get("buttons", []) if buttons_component else []
    buttons = buttons if isinstance(buttons, list) else []
    given_by_index = {b.index: b for b in content.buttons}
    for i, b in enumerate(content.buttons):
        if b.index >= len(buttons):
            raise _mismatch(
                f"buttons: the template has {len(buttons)} buttons, no index {b.index}",
                f"template.buttons[{i}].index",
            )
        kind = str(buttons[b.index].get("type", "")).lower()
        if kind != b.sub_type:
            raise _mismatch(
                f"buttons: button {b.index} is {kind or 'unknown'}, not {b.sub_type}",
                f"template.buttons[{i}].sub_type",
            )
        if kind == "url" and not placeholders(str(buttons[b.index].get("url", "")), False):
            raise _mismatch(f"buttons: URL button {b.index} has no variable", f"template.buttons[{i}]")
    for index, button in enumerate(buttons):
        kind = str(button.get("type", "")).upper() if isinstance(button, dict) else ""
        needs = (kind == "URL" and placeholders(str(button.get("url", "")), False)) or kind == "COPY_CODE"
        if needs and index not in given_by_index:
            raise _mismatch(
                f"buttons: the template's {kind.lower()} button {index} needs a parameter", "template.buttons"
            )
