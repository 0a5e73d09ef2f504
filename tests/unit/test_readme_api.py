"""The README's API section cannot drift from the served OpenAPI document: its generated blocks
are what the document says now, its hand-written table lists exactly the document's operations,
and every JSON body it shows validates against the document's schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from wanotify.cli.openapi import document, render_readme
from wanotify.common.config import load_settings

README = Path(__file__).resolve().parents[2] / "README.md"
DOC_URI = "urn:wa-notify:openapi"


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    return document("api", load_settings({}))


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_generated_blocks_are_current(served: dict[str, Any], readme: str) -> None:
    assert render_readme(readme, served) == readme, "README's API blocks are stale: run `make readme-api`"


def test_the_hand_written_table_lists_exactly_the_documents_operations(
    served: dict[str, Any], readme: str
) -> None:
    section = readme.split("What each returns:", 1)[1].split("\n\n", 2)[1]
    described = {
        _normalised(match.group(1))
        for match in re.finditer(r"^\| `([A-Z]+ /[^`]*)` \|", section, flags=re.MULTILINE)
    }
    operations = {
        _normalised(f"{method.upper()} {path}")
        for path, item in served["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    }
    assert described == operations


def test_the_walk_through_request_is_valid_against_the_document(served: dict[str, Any], readme: str) -> None:
    walk_through = readme.split("## A walk-through with curl", 1)[1]
    body = re.search(r"-d '(\{.*?\})'", walk_through, flags=re.DOTALL)
    assert body is not None
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(served, default_specification=DRAFT202012)
    )
    schema = {"$ref": f"{DOC_URI}#/components/schemas/NotificationIn"}
    validator = Draft202012Validator(schema, registry=registry)
    errors = [e.message for e in validator.iter_errors(json.loads(body.group(1)))]
    assert not errors
    bad = validator.iter_errors({"event_type": "x", "recipient": {"phone_number": "14155550123"}})
    assert any("does not match" in e.message for e in bad)  # the validator does check
