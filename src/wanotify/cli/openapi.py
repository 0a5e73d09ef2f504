"""``wa-notify openapi``: the document a service serves at ``/schema/openapi.json``, built without
starting the service (no database or Redis is touched)."""

from __future__ import annotations

from typing import Any

import msgspec

from wanotify.common.config import Settings


def document(service: str, settings: Settings) -> dict[str, Any]:
    if service == "receiver":
        from wanotify.receiver.app import create_app as create_receiver
        from wanotify.receiver.openapi import finish_document

        return finish_document(create_receiver(settings).openapi_schema.to_schema())
    from wanotify.api.app import create_app as create_api
    from wanotify.api.openapi import served_document

    return served_document(create_api(settings))


def document_json(service: str, settings: Settings) -> str:
    return msgspec.json.format(msgspec.json.encode(document(service, settings)), indent=2).decode()


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]


def operations_table(doc: dict[str, Any]) -> str:
    """The README's operations table: one row per operation, as the document states it."""
    rows = ["| method and path | operation | scope | answers |", "|---|---|---|---|"]
    for method, path, op in _operations(doc):
        security = op.get("security") or [{}]
        scopes = [scope for requirement in security for scope in requirement.get("bearer", [])]
        scope = f"`{scopes[0]}`" if scopes else "none"
        answers = ", ".join(sorted(op["responses"]))
        rows.append(f"| `{method} {path}` | `{op['operationId']}` | {scope} | {answers} |")
    return "\n".join(rows)


def request_examples(doc: dict[str, Any]) -> str:
    """The README's request examples: each operation's example body, as the document shows it."""
    parts: list[str] = []
    for method, path, op in _operations(doc):
        for media in op.get("requestBody", {}).get("content", {}).values():
            for example in media.get("examples", {}).values():
                body = msgspec.json.format(msgspec.json.encode(example["value"]), indent=2).decode()
                parts.append(f"`{op['operationId']}` (`{method} {path}`):\n\n```json\n{body}\n```")
    return "\n\n".join(parts)


README_BLOCKS = {"operations": operations_table, "request-examples": request_examples}


def readme_block(name: str) -> tuple[str, str]:
    return (
        f"<!-- generated from the OpenAPI document ({name}): make readme-api -->",
        f"<!-- end of {name} -->",
    )


def render_readme(readme: str, doc: dict[str, Any]) -> str:
    """``readme`` with every generated block replaced by what ``doc`` says now."""
    for name, render in README_BLOCKS.items():
        start, end = readme_block(name)
        before, found, rest = readme.partition(start)
        if not found:
            raise ValueError(f"README has no {start!r}")
        _, found, after = rest.partition(end)
        if not found:
            raise ValueError(f"README has no {end!r}")
        readme = f"{before}{start}\n{render(doc)}\n{end}{after}"
    return readme
