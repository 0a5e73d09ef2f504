"""Magic recipient numbers: `+1 555 FF NNNNNN` (12 digits) always produce the outcome of family FF.

| family | number            | outcome                                                          |
|--------|-------------------|------------------------------------------------------------------|
| 01     | +1555 01 CCCCCC   | synchronous Meta error CCCCCC (zero-padded), HTTP from the table |
| 02     | +1555 02 CCCCCC   | 200, then one `failed` status webhook with error CCCCCC          |
| 03     | +1555 03 00000K   | 200 and status misbehaviour K (see `MISBEHAVIOURS`)              |
| 04     | +1555 04 MMMMMM   | 200, statuses held back MMMMMM milliseconds                      |
"""

from __future__ import annotations

import re
from typing import NamedTuple

from wanotify.sandbox.models import Behaviour

_MAGIC = re.compile(r"1555(0[1-4])(\d{6})")

SYNC_ERROR = "01"
ASYNC_FAILURE = "02"
MISBEHAVIOUR = "03"
DELAY = "04"

# Knob K of family 03 -> the behaviour it forces.
MISBEHAVIOURS: dict[int, Behaviour] = {
    1: Behaviour(wa_id="", duplicates=True),
    2: Behaviour(wa_id="", order="reversed"),
    3: Behaviour(wa_id="", skip_delivered=True),
    4: Behaviour(wa_id="", drop_statuses=True),
    5: Behaviour(wa_id="", order="shuffled"),
    6: Behaviour(wa_id="", duplicates=True, order="reversed"),
}


class Magic(NamedTuple):
    sync_error: int | None = None
    async_failure: int | None = None
    behaviour: Behaviour | None = None


def magic_of(wa_id: str) -> Magic | None:
    """What a magic recipient forces, or None for an ordinary number (or an unknown 03 knob)."""
    match = _MAGIC.fullmatch(wa_id)
    if match is None:
        return None
    family, number = match.group(1), int(match.group(2))
    if family == SYNC_ERROR:
        return Magic(sync_error=number)
    if family == ASYNC_FAILURE:
        return Magic(async_failure=number)
    if family == DELAY:
        return Magic(behaviour=Behaviour(wa_id=wa_id, delay_seconds=number / 1000))
    knob = MISBEHAVIOURS.get(number)
    return None if knob is None else Magic(behaviour=knob)
