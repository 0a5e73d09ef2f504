"""Meta's failures on demand: the sandbox's fault injection, in one call."""

from __future__ import annotations

from typing import Any, Literal

import httpx


async def inject_fault(
    sandbox: httpx.AsyncClient,
    to: str,
    code: int,
    *,
    mode: Literal["sync", "async"] = "sync",
    times: int | None = 1,
) -> None:
    """The next ``times`` sends to ``to`` fail with Meta's error ``code`` (``None``: every send):
    refused in the response (``sync``) or accepted, then reported ``failed`` in a status webhook
    (``async``)."""
    body: dict[str, Any] = {"to": to, "code": code, "mode": mode}
    if times is not None:
        body["times"] = times
    (await sandbox.post("/_sandbox/faults", json=body)).raise_for_status()
