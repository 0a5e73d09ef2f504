"""Query parameters several listings share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import QueryParameter

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.edge.storable import TIME_PATTERN, check_time

TIMES = "ISO 8601 with a time zone, years 2000 to 9999"


def time_parameter(description: str) -> QueryParameter:
    return QueryParameter(schema_extra={"pattern": TIME_PATTERN}, description=f"{description} ({TIMES})")


Since = Annotated[datetime | None, time_parameter("At or after")]
Until = Annotated[datetime | None, time_parameter("Before")]


def check_times(**times: datetime | None) -> None:
    """Each given time has a zone and is one PostgreSQL and our model hold (400 naming it)."""
    for name, value in times.items():
        if value is not None:
            if value.tzinfo is None:
                raise ValidationFailed(f"{name} must be an ISO 8601 time with a time zone", field=name)
            check_time(value, name)
