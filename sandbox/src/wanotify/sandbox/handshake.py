"""The webhook verification handshake (reference §5.1), initiated by the sandbox against its webhook URL."""

from __future__ import annotations

import secrets
from typing import Any

import httpx


def new_challenge() -> str:
    return str(10**9 + secrets.randbelow(9 * 10**9))


async def verify_webhook(url: str, verify_token: str, timeout_seconds: float) -> dict[str, Any]:
    """Send Meta's `GET ?hub.mode=subscribe...`; verified on a 200 whose body is the challenge."""
    challenge = new_challenge()
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds) as client:
            response = await client.get(url, params=params)
    except httpx.HTTPError as error:
        return {
            "verified": False,
            "status": None,
            "echoed": None,
            "error": f"{type(error).__name__}: {error}",
        }
    echoed = response.text
    return {
        "verified": response.status_code == 200 and echoed == challenge,
        "status": response.status_code,
        "echoed": echoed,
    }
