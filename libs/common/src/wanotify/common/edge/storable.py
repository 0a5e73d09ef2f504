"""The walk over a decoded request that refuses what PostgreSQL (or a person reading a log) cannot
take: bad characters (see :mod:`wanotify.common.edge.text`), JSON nested deeper than
:data:`MAX_DEPTH`, integers outside 64 bits (Python prints no int past 4300 digits) and times
outside the years 2000 to 9999.

Times: ``0001-01-01T00:00:00+01:00`` is year 0 in UTC, which Python's ``datetime`` cannot
represent, so converting it (as asyncpg does) would raise instead of storing it. The year as
written must be 2000 to 9999 (:data:`TIME_PATTERN` says so in the OpenAPI document).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.edge.text import check_text

MAX_DEPTH = 16
MIN_YEAR = 2000
MAX_YEAR = 9999
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
TIME_PATTERN = r"^[2-9][0-9]{3}-"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def check_time(value: datetime, field: str) -> datetime:
    """``value`` if its year (as written) is 2000 to 9999 and Python can convert it to UTC."""
    try:
        ok = MIN_YEAR <= value.year <= MAX_YEAR and (value.tzinfo is None or bool(value.astimezone(UTC)))
    except OverflowError:  # 9999-12-31 with a negative offset is past year 9999 in UTC
        ok = False
    if not ok:
        raise ValidationFailed(
            f"{field or 'time'} must be between the years {MIN_YEAR} and {MAX_YEAR}",
            field=field or None,
            code="OUT_OF_RANGE",
        )
    return value


def _too_deep(path: str, max_depth: int) -> ValidationFailed:
    return ValidationFailed(f"{path or 'body'} nests deeper than {max_depth} levels", field=path or None)


def check_storable(
    value: Any,
    path: str = "",
    *,
    multiline: bool = False,
    depth: int = 0,
    free_form: bool = False,
    max_depth: int = MAX_DEPTH,
) -> None:
    """Walk Structs, lists, dicts, strings, integers and times; raise :class:`ValidationFailed`
    naming the first field that cannot be stored as given.

    A Struct names its free-text fields (where tab, CR and LF are fine) in a ``multiline`` class
    variable, and may cap the depth of its free-form fields below :data:`MAX_DEPTH` in a
    ``free_form_depth`` one; values inside free-form JSON (``metadata``) may hold line breaks too.
    Depth counts the arrays and objects of free-form JSON only, from the object a field holds: the
    typed lists around it (a bulk request's items) are bounded by their type, and do not count.
    """
    if isinstance(value, str):
        check_text(value, path, multiline=multiline)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValidationFailed(
                f"{path or 'value'} is out of range", field=path or None, code="OUT_OF_RANGE"
            )
    elif isinstance(value, datetime):
        check_time(value, path)
    elif isinstance(value, msgspec.Struct):
        free_text: frozenset[str] = getattr(value, "multiline", frozenset())
        cap: int = getattr(value, "free_form_depth", max_depth)
        for name in value.__struct_fields__:
            child = getattr(value, name)
            check_storable(child, _join(path, name), multiline=name in free_text, max_depth=cap)
    elif isinstance(value, list | tuple):
        if free_form and depth >= max_depth:
            raise _too_deep(path, max_depth)
        for i, item in enumerate(value):
            check_storable(
                item,
                f"{path}[{i}]",
                multiline=multiline,
                depth=depth + free_form,
                free_form=free_form,
                max_depth=max_depth,
            )
    elif isinstance(value, dict):
        if depth >= max_depth:
            raise _too_deep(path, max_depth)
        for key, item in value.items():
            child = _join(path, str(key))
            check_text(str(key), child)
            check_storable(item, child, multiline=True, depth=depth + 1, free_form=True, max_depth=max_depth)
