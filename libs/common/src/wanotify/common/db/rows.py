"""Rows to msgspec structs (SQLAlchemy's column names are ``str`` subclasses; msgspec wants ``str``)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from sqlalchemy.engine import Row

T = TypeVar("T")


def row_dict(row: Row[Any]) -> dict[str, Any]:
    return {str(k): v for k, v in row._mapping.items()}


def convert(row: Row[Any], type_: type[T]) -> T:
    return msgspec.convert(row_dict(row), type_)
