"""Bearer API keys → the calling tenant. Keys are looked up by their sha256; scopes gate each route.

A verified key is cached in-process for ``API_KEY_CACHE_SECONDS`` (10 s by default, never past the
key's own expiry), so a revocation reaches every API process within that time; the process that
revokes drops its entry at once. A key's last use is written at most once a minute per process
(and, across processes, at most once a minute in all: the UPDATE keeps a newer value).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from litestar.connection import ASGIConnection

from wanotify.common.cache import TtlCache
from wanotify.common.clock import utcnow
from wanotify.common.db.api_keys import hash_key
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.api_key import ApiKey, check_usable, use_worth_recording
from wanotify.common.domain.errors import Forbidden, Unauthorized
from wanotify.common.domain.notification import Principal

log = logging.getLogger(__name__)


def bearer_token(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'")
    return token.strip()


class Authenticator:
    def __init__(self, uow: Callable[[], UnitOfWork], *, cache_seconds: float = 10.0) -> None:
        self._uow = uow
        self._cache: TtlCache[str, ApiKey] = TtlCache(cache_seconds)
        self._recorded: TtlCache[str, datetime] = TtlCache(3600)

    async def __call__(self, request: ASGIConnection[Any, Any, Any, Any], scope: str) -> Principal:
        token = bearer_token(request)
        digest = hash_key(token)
        now = utcnow()
        key = self._cache.get(digest)
        if key is None:
            async with self._uow() as uow:
                key = await uow.api_keys.by_plaintext(token)
            if key is None:
                raise Unauthorized("Unknown API key")
            self._cache.put(digest, key)
        check_usable(key, now)  # the cached copy too: an expiry passes while it is cached
        if scope not in key.scopes:
            raise Forbidden(f"This API key lacks the '{scope}' scope")
        await self._note_use(key.id, now)
        return Principal(tenant_id=key.tenant_id, key_id=key.id, scopes=frozenset(key.scopes))

    async def _note_use(self, key_id: str, now: datetime) -> None:
        if not use_worth_recording(self._recorded.get(key_id), now):
            return
        self._recorded.put(key_id, now)
        try:
            async with self._uow() as uow:
                await uow.api_keys.record_use(key_id)
                await uow.commit()
        except Exception:  # a hint for the tenant: never the reason a request fails
            log.warning("could not record an API key's last use", extra={"key_id": key_id}, exc_info=True)

    def forget(self, key_id: str) -> None:
        """Drop a key this process has cached (it was just revoked or rotated here)."""
        self._cache.drop_where(lambda key: key.id == key_id)
