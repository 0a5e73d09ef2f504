"""``GET|POST /v1/opt-outs`` and ``DELETE /v1/opt-outs/{phone_number}`` (scope ``opt_outs:manage``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import unquote

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.params import FromPath, QueryParameter
from msgspec import Meta

from wanotify.api.notifications.schemas import E164
from wanotify.api.notifications.validation import decode
from wanotify.api.state import AppState
from wanotify.common.clock import iso
from wanotify.common.db.opt_outs import OptOut
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import NotFound, ValidationFailed

SCOPE = "opt_outs:manage"
MAX_PAGE = 1000
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


class OptOutIn(msgspec.Struct, forbid_unknown_fields=True):
    phone_number: E164
    reason: Annotated[str, Meta(max_length=500)] | None = None


class OptOutOut(msgspec.Struct):
    phone_number: str
    source: str
    reason: str | None
    created_at: str | None


class OptOutList(msgspec.Struct):
    opt_outs: list[OptOutOut]
    next_after: str | None


def _out(o: OptOut) -> OptOutOut:
    return OptOutOut(o.recipient_phone, o.source, o.reason, iso(o.created_at))


def _phone(raw: str) -> str:
    phone = unquote(raw).strip()
    if phone and phone[0] != "+":  # a '+' may arrive as a space from form-style encoders
        phone = "+" + phone.lstrip()
    if not _E164.match(phone):
        raise ValidationFailed(
            "Phone number must be in E.164 format (+ and 2 to 15 digits)",
            field="phone_number",
            code="INVALID_PHONE_NUMBER",
        )
    return phone


class OptOutController(Controller):
    path = "/v1/opt-outs"
    tags = ["opt-outs"]

    @get("/")
    async def list_opt_outs(
        self,
        request: Request[Any, Any, Any],
        state: AppState,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
        after: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> OptOutList:
        principal = await state.authenticate(request, SCOPE)
        uow: Callable[[], UnitOfWork] = state.uow
        async with uow() as u:
            found = await u.opt_outs.page(principal.tenant_id, limit=limit, after=after)
        next_after = found[-1].recipient_phone if len(found) == limit else None
        return OptOutList([_out(o) for o in found], next_after)

    @post("/")
    async def add_opt_out(self, request: Request[Any, Any, Any], state: AppState) -> Response[bytes]:
        """Record an opt-out: 201 when new, 200 when the recipient had already opted out."""
        principal = await state.authenticate(request, SCOPE)
        try:
            body = decode(await request.body(), OptOutIn)
        except ValidationFailed as exc:
            if exc.field == "phone_number":
                _phone("")  # the same INVALID_PHONE_NUMBER error as everywhere else
            raise
        async with state.uow() as u:
            opt_out, created = await u.opt_outs.add(
                principal.tenant_id, body.phone_number, source="api", reason=body.reason
            )
            await u.commit()
        return Response(
            msgspec.json.encode(_out(opt_out)), status_code=201 if created else 200, media_type=MediaType.JSON
        )

    @delete("/{phone_number:str}", status_code=204)
    async def remove_opt_out(
        self, request: Request[Any, Any, Any], state: AppState, phone_number: FromPath[str]
    ) -> None:
        principal = await state.authenticate(request, SCOPE)
        phone = _phone(phone_number)
        async with state.uow() as u:
            removed = await u.opt_outs.remove(principal.tenant_id, phone)
            await u.commit()
        if not removed:
            raise NotFound(f"{phone} has not opted out", field="phone_number")
