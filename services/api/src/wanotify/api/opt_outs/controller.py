"""``GET|POST /v1/opt-outs`` and ``DELETE /v1/opt-outs/{phone_number}`` (scope ``opt_outs:manage``)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, MediaType, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from wanotify.api.dto import JsonBody
from wanotify.api.openapi import operation
from wanotify.api.opt_outs.schemas import OptOutIn, OptOutList, OptOutOut
from wanotify.api.opt_outs.service import OptOutService
from wanotify.common.domain.notification import Principal
from wanotify.common.domain.phone import E164_MAX_LENGTH, E164_PATTERN

SCOPE = "opt_outs:manage"
MAX_PAGE = 1000

PhonePath = Annotated[
    str,
    PathParameter(
        pattern=E164_PATTERN,
        max_length=E164_MAX_LENGTH,
        description="E.164 number; send the `+` as is or as `%2B`",
    ),
]


class OptOutController(Controller):
    path = "/v1/opt-outs"
    tags = ["opt-outs"]

    @get("/", **operation("listOptOuts", SCOPE))
    async def list_opt_outs(
        self,
        principal: NamedDependency[Principal],
        opt_outs: NamedDependency[OptOutService],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Page size")] = 100,
        after: Annotated[
            str | None,
            QueryParameter(
                pattern=E164_PATTERN,
                max_length=E164_MAX_LENGTH,
                description="`next_after` of the previous page",
            ),
        ] = None,
    ) -> OptOutList:
        """The tenant's opt-outs, ordered by phone number."""
        return await opt_outs.page(principal, limit=limit, after=after)

    @post(
        "/",
        dto=JsonBody[OptOutIn],
        return_dto=None,
        **operation(
            "addOptOut",
            SCOPE,
            body=True,
            success=((201, OptOutOut, "Recorded"), (200, OptOutOut, "Already opted out: kept as it was")),
        ),
    )
    async def add_opt_out(
        self,
        data: JSONBody[OptOutIn],
        principal: NamedDependency[Principal],
        opt_outs: NamedDependency[OptOutService],
    ) -> Response[bytes]:
        """Record an opt-out: 201 when new, 200 when the recipient had already opted out."""
        out, created = await opt_outs.add(principal, data)
        return Response(
            msgspec.json.encode(out), status_code=201 if created else 200, media_type=MediaType.JSON
        )

    @delete("/{phone_number:str}", status_code=204, **operation("removeOptOut", SCOPE, errors=(404,)))
    async def remove_opt_out(
        self,
        principal: NamedDependency[Principal],
        opt_outs: NamedDependency[OptOutService],
        phone_number: PhonePath,
    ) -> None:
        """Remove an opt-out: the recipient may be messaged again."""
        await opt_outs.remove(principal, phone_number)
