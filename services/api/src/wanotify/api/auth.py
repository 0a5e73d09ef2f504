"""Bearer API keys → the calling tenant. Keys are looked up by their sha256; scopes gate each route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection

from wanotify.common.cache import TtlCache
from wanotify.common.db.tenants import hash_key
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import Forbidden, Unauthorized
from wanotify.common.domain.notification import Principal


def bearer_token(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'")
    return token.strip()


class Authenticator:
    def __init__(self, uow: Callable[[], UnitOfWork], *, cache_seconds: float = 10.0) -> None:
        self._uow = uow
        self._cache: TtlCache[str, Principal] = TtlCache(cache_seconds)

    async def __call__(self, request: ASGIConnection[Any, Any, Any, Any], scope: str) -> Principal:
        token = bearer_token(request)
        digest = hash_key(token)
        principal = self._cache.get(digest)
        if principal is None:
            async with self._uow() as uow:
                principal = await uow.tenants.principal_for_key(token)
            if principal is not None:
                self._cache.put(digest, principal)
        if principal is None:
            raise Unauthorized("Invalid, expired or revoked API key")
        if scope not in principal.scopes:
            raise Forbidden(f"This API key lacks the '{scope}' scope")
        return principal
