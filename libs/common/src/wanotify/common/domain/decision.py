"""What to do after Meta refused a send: one pure decision for both places that learn of it.

The worker learns of an error when Meta answers the send (synchronously); the receiver learns of
it when Meta reports ``failed`` later (asynchronously). Both call :func:`decide` and carry out what
it returns, so a sender-level error, say, has the same effect whichever way it arrives:

- :class:`Retry`: another attempt after ``delay`` (the attempt is spent);
- :class:`PauseSender`: the sender is unusable until an operator resumes it; the notification
  waits behind it (``rate_limited``), looked at again after ``recheck``, and the attempt is given
  back, because the notification itself was not at fault;
- :class:`Fail`: final. ``exhausted`` says whether a retryable error ran out of attempts (Meta
  might accept it later) or retrying could never help; either way it is in the dead-letter set.

No I/O here: the caller's repositories do the writing.
"""

from __future__ import annotations

import random
from datetime import timedelta

import msgspec

from wanotify.common.meta.errors import ErrorClass, is_retryable
from wanotify.common.retry import retry_delay

# A paused sender's notification is looked at again this often (resuming wakes it at once).
PAUSE_RECHECK = timedelta(seconds=300)


class SendError(msgspec.Struct, frozen=True):
    """A refused send: its class, and Meta's numeric code when Meta gave one."""

    error_class: ErrorClass
    meta_code: int | None = None


class Retry(msgspec.Struct, frozen=True):
    delay: timedelta


class PauseSender(msgspec.Struct, frozen=True):
    recheck: timedelta = PAUSE_RECHECK


class Fail(msgspec.Struct, frozen=True):
    retryable: bool  # the error is of a kind Meta might accept later
    exhausted: bool  # it was retryable, and no attempt is left


Decision = Retry | PauseSender | Fail


def decide(
    error: SendError, attempt: int, max_attempts: int, *, rng: random.Random | None = None
) -> Decision:
    """After attempt ``attempt`` (1-based) of ``max_attempts`` failed with ``error``."""
    if error.error_class is ErrorClass.SENDER:
        return PauseSender()
    retryable = is_retryable(error.error_class)
    if not retryable:
        return Fail(retryable=False, exhausted=False)
    if attempt >= max_attempts:
        return Fail(retryable=True, exhausted=True)
    return Retry(retry_delay(error.error_class, attempt, code=error.meta_code, rng=rng))
