"""``/v1/senders`` (scope ``senders:manage``): list, set tiers, resume after a pause.

A sender-level error from Meta (bad token, account locked, …) pauses the sender; its
notifications wait without burning attempts until ``POST /v1/senders/{id}/resume``.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from wanotify.api.dto import JsonBody
from wanotify.api.notifications.schemas import ID_PATTERN
from wanotify.api.openapi import operation
from wanotify.api.senders.schemas import Resumed, SenderList, SenderTiersIn, SenderView
from wanotify.api.senders.service import SenderService
from wanotify.common.domain.notification import Principal

SCOPE = "senders:manage"
SenderIdPath = Annotated[str, PathParameter(pattern=ID_PATTERN, max_length=64, description="The sender's id")]


class SenderController(Controller):
    path = "/v1/senders"
    tags = ["senders"]

    @get("/", **operation("listSenders", SCOPE))
    async def list_senders(
        self, principal: NamedDependency[Principal], senders: NamedDependency[SenderService]
    ) -> SenderList:
        """The tenant's senders, with their tiers and pause state."""
        return await senders.list(principal)

    @patch(
        "/{sender_id:str}",
        dto=JsonBody[SenderTiersIn],
        return_dto=None,
        **operation("updateSenderTiers", SCOPE, body=True, errors=(404,)),
    )
    async def set_tiers(
        self,
        data: JSONBody[SenderTiersIn],
        principal: NamedDependency[Principal],
        senders: NamedDependency[SenderService],
        sender_id: SenderIdPath,
    ) -> SenderView:
        """Set the number's throughput tier (20, 80, 1000 mps) and messaging limit (250 … 100000, null)."""
        return await senders.set_tiers(principal, sender_id, data)

    @post("/{sender_id:str}/resume", status_code=200, **operation("resumeSender", SCOPE, errors=(404,)))
    async def resume(
        self,
        principal: NamedDependency[Principal],
        senders: NamedDependency[SenderService],
        sender_id: SenderIdPath,
    ) -> Resumed:
        """Resume a paused sender: its waiting notifications are queued again."""
        return await senders.resume(principal, sender_id)
