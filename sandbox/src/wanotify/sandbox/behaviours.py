"""Status-webhook knobs: start-up settings, overridden per recipient (admin route, magic numbers)."""

from __future__ import annotations

import random
from typing import NamedTuple

from wanotify.sandbox.models import Behaviour
from wanotify.sandbox.settings import SandboxSettings, StatusOrder

NORMAL_STEPS = ("sent", "delivered", "read")


class StatusKnobs(NamedTuple):
    duplicates: bool = False
    order: StatusOrder = "normal"
    skip_delivered: bool = False
    delay_seconds: float = 0.0
    drop_statuses: bool = False


def default_knobs(settings: SandboxSettings) -> StatusKnobs:
    return StatusKnobs(
        duplicates=settings.status_duplicates,
        order=settings.status_order,
        skip_delivered=settings.skip_delivered,
        delay_seconds=settings.status_delay_seconds,
        drop_statuses=settings.drop_statuses,
    )


def apply_behaviour(knobs: StatusKnobs, behaviour: Behaviour | None) -> StatusKnobs:
    """`knobs` with every field the behaviour sets replaced."""
    if behaviour is None:
        return knobs
    return StatusKnobs(
        duplicates=knobs.duplicates if behaviour.duplicates is None else behaviour.duplicates,
        order=knobs.order if behaviour.order is None else behaviour.order,
        skip_delivered=knobs.skip_delivered if behaviour.skip_delivered is None else behaviour.skip_delivered,
        delay_seconds=knobs.delay_seconds if behaviour.delay_seconds is None else behaviour.delay_seconds,
        drop_statuses=knobs.drop_statuses if behaviour.drop_statuses is None else behaviour.drop_statuses,
    )


def status_sequence(knobs: StatusKnobs, failed: bool, rng: random.Random | None = None) -> list[str]:
    """The statuses to emit, in emission order, duplicates included."""
    if knobs.drop_statuses:
        return []
    if failed:
        steps = ["failed"]
    else:
        steps = [s for s in NORMAL_STEPS if not (knobs.skip_delivered and s == "delivered")]
    if knobs.order == "reversed":
        steps.reverse()
    elif knobs.order == "shuffled":
        shuffled = list(steps)
        while len(steps) > 1 and shuffled == steps:  # a shuffle that changes nothing shows nothing
            (rng or random).shuffle(shuffled)
        steps = shuffled
    if knobs.duplicates:
        steps = [s for s in steps for _ in range(2)]
    return steps
