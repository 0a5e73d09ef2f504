"""Free-form JSON (``metadata``) in the OpenAPI document, exactly as the server takes it: no control
characters but tab, CR and LF in strings, none in keys, integers within 64 bits, and at most
:data:`METADATA_DEPTH` levels of objects and arrays (``{"order": {"lines": [{"sku": "A"}]}}`` is
four, the metadata object included).

It is spelled as one named schema per level rather than one recursive schema: client generators
(openapi-python-client among them) cannot build a recursive union, and the levels state the depth
cap too. ``JsonValue<n>`` holds a scalar, or an array or object of ``JsonValue<n-1>``. The cap is
kept small because a generator that inlines the levels (hypothesis-jsonschema, under
schemathesis) doubles the schema with each one.
"""

from __future__ import annotations

from typing import Any

from wanotify.common.edge.text import MULTILINE_PATTERN, SINGLE_LINE_PATTERN

METADATA_DEPTH = 5
SCALAR = "JsonScalar"
KEY_SCHEMA = {"pattern": SINGLE_LINE_PATTERN}
# A metadata object is itself the first level, so its values may nest one level less.
JSON_VALUE = f"JsonValue{METADATA_DEPTH - 1}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_value_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        SCALAR: {
            "anyOf": [
                {"type": "string", "pattern": MULTILINE_PATTERN},
                {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
                {"type": "number", "not": {"type": "integer"}},
                {"type": "boolean"},
                {"type": "null"},
            ]
        }
    }
    inner = SCALAR
    for level in range(1, METADATA_DEPTH):
        name = f"JsonValue{level}"
        schemas[name] = {
            "anyOf": [
                _ref(SCALAR),
                {"type": "array", "items": _ref(inner)},
                {"type": "object", "propertyNames": KEY_SCHEMA, "additionalProperties": _ref(inner)},
            ]
        }
        inner = name
    return schemas
