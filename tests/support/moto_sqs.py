"""moto's SQS made atomic, as SQS is: two concurrent receives never get the same message.

moto checks that a message is visible and marks it received in two steps without a lock, so two
ReceiveMessage calls served by two of its threads at once can both take one message (seen under
load in the contract test of two concurrent receivers). Real SQS never does that. Each selection
pass runs under one lock here; the long-poll wait happens outside it, so receivers still wait in
parallel.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

from moto.sqs.models import SQSBackend

_LOCK = threading.Lock()
_original = SQSBackend.receive_message


def _receive_message(
    self: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Any]:
    deadline = time.monotonic() + wait_seconds_timeout
    while True:
        with _LOCK:
            result = _original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
        remaining = deadline - time.monotonic()
        if result or remaining <= 0:
            return result
        self.get_queue(queue_name).wait_for_messages(min(1.0, remaining))
        time.sleep(0.01)  # visible messages another receiver is taking: do not spin


@contextlib.contextmanager
def atomic_receives() -> Iterator[None]:
    with mock.patch.object(SQSBackend, "receive_message", _receive_message):
        yield
