"""The queue contract both adapters obey (SQS and the PostgreSQL table).

At-least-once delivery: a received message is invisible for the visibility timeout and comes
back unless deleted with its receipt; ``delay_seconds`` (0..900, SQS's maximum) postpones the
first delivery; ``receive_count`` counts deliveries, so poison messages can be recognised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

MAX_DELAY_SECONDS = 900
MAX_BATCH = 10


class OutgoingMessage(msgspec.Struct, frozen=True):
    body: str
    attributes: dict[str, str] = {}
    delay_seconds: int = 0


class ReceivedMessage(msgspec.Struct, frozen=True):
    message_id: str
    body: str
    attributes: dict[str, str]
    receipt: str
    receive_count: int


class QueueDepth(msgspec.Struct, frozen=True):
    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


class QueueError(Exception):
    """The queue could not be reached or refused the request."""


# OpenTelemetry's ``messaging.system`` per backend.
MESSAGING_SYSTEMS = {"sqs": "aws_sqs", "postgres": "postgresql"}


class Queue(Protocol):
    name: str
    backend: str  # "sqs" or "postgres": what /health reports and spans name

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        """Send up to any number of messages; returns the indexes that could not be sent."""
        ...

    async def receive(self, max_messages: int, wait_seconds: float) -> list[ReceivedMessage]: ...

    async def delete(self, receipts: Sequence[str]) -> None: ...

    async def change_visibility(self, receipt: str, seconds: int) -> None: ...

    async def depth(self) -> QueueDepth: ...

    async def close(self) -> None: ...


def clamp_delay(seconds: float) -> int:
    return max(0, min(MAX_DELAY_SECONDS, int(seconds + 0.999)))
