"""The `metadata.<key>=<value>` query parameters of `GET /v1/notifications`: not declarable one by
one, so read from the query string and checked here (a bad one is a 400 naming it)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.edge.text import check_text

PREFIX = "metadata."
MAX_KEYS = 10
MAX_VALUE = 256
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def metadata_filter(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{key: value}`` from the ``metadata.<key>`` parameters; a key given twice keeps its last value."""
    found: dict[str, str] = {}
    for name, value in params:
        if not name.startswith(PREFIX):
            continue
        key = name[len(PREFIX) :]
        if not _KEY.fullmatch(key):
            raise ValidationFailed(f"{name}: a metadata key is 1 to 64 of A-Z a-z 0-9 _ -", field=name)
        if len(value) > MAX_VALUE:
            raise ValidationFailed(f"{name} is longer than {MAX_VALUE} characters", field=name)
        found[key] = check_text(value, name)
    if len(found) > MAX_KEYS:
        raise ValidationFailed(f"At most {MAX_KEYS} metadata filters", field=PREFIX + "*")
    return found
