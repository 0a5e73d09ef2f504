"""The walk that refuses what PostgreSQL cannot store, and its depth cap, which the OpenAPI
document states as ``JsonValue15`` under a metadata object."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import msgspec
import pytest

from wanotify.api.json_value import JSON_VALUE, METADATA_DEPTH, json_value_schemas
from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.edge.storable import MAX_DEPTH, check_storable


class Item(msgspec.Struct):
    metadata: dict[str, Any]


class Capped(msgspec.Struct):
    free_form_depth: ClassVar[int] = METADATA_DEPTH
    metadata: dict[str, Any]


class Batch(msgspec.Struct):
    items: list[Item]


def nested(levels: int) -> dict[str, Any]:
    """A metadata object of ``levels`` levels of objects and arrays in all (itself the first)."""
    value: Any = "leaf"
    for level in range(levels - 1):
        value = [value] if level % 2 else {"k": value}
    return {"top": value}


def test_metadata_may_nest_exactly_max_depth_levels_even_inside_a_batch() -> None:
    check_storable(Item(nested(MAX_DEPTH)))
    check_storable(Batch([Item(nested(MAX_DEPTH))]))  # the typed list around it does not count
    for value in (Item(nested(MAX_DEPTH + 1)), Batch([Item(nested(MAX_DEPTH + 1))])):
        with pytest.raises(ValidationFailed) as raised:
            check_storable(value)
        assert "metadata" in (raised.value.field or "")


def test_a_struct_caps_its_free_form_fields_lower() -> None:
    check_storable(Capped(nested(METADATA_DEPTH)))
    check_storable(Batch([Item(nested(MAX_DEPTH))]))
    with pytest.raises(ValidationFailed) as raised:
        check_storable(Capped(nested(METADATA_DEPTH + 1)))
    assert f"deeper than {METADATA_DEPTH} levels" in raised.value.message


def test_the_document_states_the_same_cap() -> None:
    schemas = json_value_schemas()
    levels = 1  # the metadata object
    name = JSON_VALUE
    while name != "JsonScalar":
        levels += 1
        array = schemas[name]["anyOf"][1]
        name = array["items"]["$ref"].rsplit("/", 1)[-1]
    assert levels == METADATA_DEPTH


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ({"n": 2**63}, "OUT_OF_RANGE"),
        ({"n": -(2**63) - 1}, "OUT_OF_RANGE"),
        ({"s": "a\u0000b"}, "INVALID_CHARACTERS"),
        ({"k\u0001": 1}, "INVALID_CHARACTERS"),
    ],
)
def test_values_postgresql_cannot_store_are_refused(value: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_storable(Item(value))
    assert raised.value.code == code
    assert (raised.value.field or "").startswith("metadata")


def test_line_breaks_and_extremes_that_fit_are_kept() -> None:
    check_storable(Item({"note": "two\nlines\ttab", "n": 2**63 - 1, "m": -(2**63)}))


@pytest.mark.parametrize(
    "when",
    [
        datetime(1999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_times_outside_the_years_2000_to_9999_in_utc_are_refused(when: datetime) -> None:
    class At(msgspec.Struct):
        at: datetime

    with pytest.raises(ValidationFailed) as raised:
        check_storable(At(when))
    assert (raised.value.field, raised.value.code) == ("at", "OUT_OF_RANGE")
