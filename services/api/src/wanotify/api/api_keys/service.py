"""API keys through the API: create, list, read, revoke, rotate (scope ``keys:manage``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from wanotify.api.api_keys.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPage, Rotated
from wanotify.api.auth import Authenticator
from wanotify.api.paging import decode_cursor, encode_cursor
from wanotify.common.clock import iso, utcnow
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.api_key import ApiKey, check_new_expiry, key_state, rotation_deadline
from wanotify.common.domain.errors import NotFound
from wanotify.common.domain.notification import Principal
from wanotify.common.domain.scopes import checked_scopes


def view(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=list(key.scopes),
        state=key_state(key, utcnow()),
        created_at=iso(key.created_at) or "",
        last_used_at=iso(key.last_used_at),
        expires_at=iso(key.expires_at),
        revoked_at=iso(key.revoked_at),
        replaced_by=key.replaced_by,
    )


def _missing(key_id: str) -> NotFound:
    return NotFound(f"API key {key_id} not found", field="key_id")


class ApiKeyService:
    def __init__(self, uow: Callable[[], UnitOfWork], authenticator: Authenticator) -> None:
        self._uow = uow
        self._authenticator = authenticator

    async def create(self, principal: Principal, body: ApiKeyIn) -> ApiKeyCreated:
        scopes = checked_scopes(body.scopes, principal.scopes)
        check_new_expiry(body.expires_at, utcnow())
        async with self._uow() as uow:
            key, plaintext = await uow.api_keys.create(
                principal.tenant_id, name=body.name, scopes=scopes, expires_at=body.expires_at
            )
            await uow.commit()
        return ApiKeyCreated(key=plaintext, api_key=view(key))

    async def page(self, principal: Principal, *, limit: int, cursor: str | None) -> ApiKeyPage:
        after = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            rows = await uow.api_keys.page(principal.tenant_id, limit=limit + 1, after=after)
        page = rows[:limit]
        more = len(rows) > limit and page
        return ApiKeyPage(
            [view(k) for k in page], encode_cursor(page[-1].created_at, page[-1].id) if more else None
        )

    async def get(self, principal: Principal, key_id: str) -> ApiKeyOut:
        async with self._uow() as uow:
            key = await uow.api_keys.get(principal.tenant_id, key_id)
        if key is None:
            raise _missing(key_id)
        return view(key)

    async def revoke(self, principal: Principal, key_id: str) -> ApiKeyOut:
        async with self._uow() as uow:
            key = await uow.api_keys.revoke(principal.tenant_id, key_id)
            await uow.commit()
        if key is None:
            raise _missing(key_id)
        self._authenticator.forget(key_id)
        return view(key)

    async def rotate(self, principal: Principal, key_id: str, grace: timedelta) -> Rotated:
        """A successor with the same name, scopes and expiry; the old key works for the grace time."""
        now = utcnow()
        async with self._uow() as uow:
            old = await uow.api_keys.get(principal.tenant_id, key_id)
            if old is None:
                raise _missing(key_id)
            until = rotation_deadline(old, grace, now)
            new, plaintext = await uow.api_keys.create(
                principal.tenant_id, name=old.name, scopes=old.scopes, expires_at=old.expires_at
            )
            old = await uow.api_keys.retire(old.id, replaced_by=new.id, until=until)
            await uow.commit()
        self._authenticator.forget(key_id)
        return Rotated(key=plaintext, api_key=view(new), previous=view(old))
