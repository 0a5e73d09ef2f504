"""``/v1/api-keys`` (scope ``keys:manage``): create, list, read, revoke and rotate the tenant's keys.

Another tenant's key is a 404. A key's plaintext is in the answer that creates it, and nowhere else.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from wanotify.api.api_keys.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPage, Rotated
from wanotify.api.api_keys.service import ApiKeyService
from wanotify.api.dto import JsonBody
from wanotify.api.notifications.schemas import ID_PATTERN
from wanotify.api.openapi import operation
from wanotify.api.paging import DEFAULT_PAGE, PageCursor, PageLimit
from wanotify.common.domain.api_key import DEFAULT_ROTATION_GRACE, MAX_ROTATION_GRACE
from wanotify.common.domain.notification import Principal

SCOPE = "keys:manage"
DEFAULT_GRACE_SECONDS = int(DEFAULT_ROTATION_GRACE.total_seconds())
MAX_GRACE_SECONDS = int(MAX_ROTATION_GRACE.total_seconds())
KeyIdPath = Annotated[str, PathParameter(pattern=ID_PATTERN, max_length=64, description="The key's id")]


class ApiKeyController(Controller):
    path = "/v1/api-keys"
    tags = ["api-keys"]

    @post(
        "/",
        dto=JsonBody[ApiKeyIn],
        return_dto=None,
        status_code=201,
        **operation("createApiKey", SCOPE, body=True, errors=(422,)),
    )
    async def create_key(
        self,
        data: JSONBody[ApiKeyIn],
        principal: NamedDependency[Principal],
        api_keys: NamedDependency[ApiKeyService],
    ) -> ApiKeyCreated:
        """A new key with the scopes it lists (only ones the calling key holds); its plaintext, once."""
        return await api_keys.create(principal, data)

    @get("/", **operation("listApiKeys", SCOPE))
    async def list_keys(
        self,
        principal: NamedDependency[Principal],
        api_keys: NamedDependency[ApiKeyService],
        limit: PageLimit = DEFAULT_PAGE,
        cursor: PageCursor = None,
    ) -> ApiKeyPage:
        """The tenant's keys, newest first, revoked and expired ones included (never a key itself)."""
        return await api_keys.page(principal, limit=limit, cursor=cursor)

    @get("/{key_id:str}", **operation("getApiKey", SCOPE, errors=(404,)))
    async def get_key(
        self,
        principal: NamedDependency[Principal],
        api_keys: NamedDependency[ApiKeyService],
        key_id: KeyIdPath,
    ) -> ApiKeyOut:
        """One key: its prefix, scopes, state, last use and expiry."""
        return await api_keys.get(principal, key_id)

    @delete("/{key_id:str}", status_code=200, **operation("revokeApiKey", SCOPE, errors=(404,)))
    async def revoke_key(
        self,
        principal: NamedDependency[Principal],
        api_keys: NamedDependency[ApiKeyService],
        key_id: KeyIdPath,
    ) -> ApiKeyOut:
        """Revoke the key: refused everywhere within `API_KEY_CACHE_SECONDS` (10 s), here at once."""
        return await api_keys.revoke(principal, key_id)

    @post("/{key_id:str}/rotate", status_code=200, **operation("rotateApiKey", SCOPE, errors=(404, 422)))
    async def rotate_key(
        self,
        principal: NamedDependency[Principal],
        api_keys: NamedDependency[ApiKeyService],
        key_id: KeyIdPath,
        grace_seconds: Annotated[
            int,
            QueryParameter(
                ge=0,
                le=MAX_GRACE_SECONDS,
                description="How long the old key keeps working (default 86400: 24 hours; at most 7 days)",
            ),
        ] = DEFAULT_GRACE_SECONDS,
    ) -> Rotated:
        """A new key with the same name, scopes and expiry; the old one works until the grace time ends."""
        return await api_keys.rotate(principal, key_id, timedelta(seconds=grace_seconds))
