"""``/v1/dead-letters``: list (``dead_letters:read``) and replay (``dead_letters:manage``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from wanotify.api.dead_letters.schemas import CODE_PATTERN, DeadLetterPage, FilterIn, ReplayIn, ReplayOut
from wanotify.api.dead_letters.service import DeadLetterService
from wanotify.api.dto import JsonBody
from wanotify.api.notifications.schemas import EVENT_PATTERN
from wanotify.api.openapi import operation
from wanotify.api.paging import DEFAULT_PAGE, PageCursor, PageLimit
from wanotify.api.query import check_times, time_parameter
from wanotify.common.domain.notification import Principal


class DeadLetterController(Controller):
    path = "/v1/dead-letters"
    tags = ["dead letters"]

    @get("/", **operation("listDeadLetters", "dead_letters:read"))
    async def list_dead_letters(
        self,
        principal: NamedDependency[Principal],
        dead_letters: NamedDependency[DeadLetterService],
        error_code: Annotated[
            str | None,
            QueryParameter(max_length=32, pattern=CODE_PATTERN, description="Error code"),
        ] = None,
        event_type: Annotated[
            str | None,
            QueryParameter(max_length=100, pattern=EVENT_PATTERN, description="Event type"),
        ] = None,
        since: Annotated[datetime | None, time_parameter("Failed at or after")] = None,
        until: Annotated[datetime | None, time_parameter("Failed before")] = None,
        limit: PageLimit = DEFAULT_PAGE,
        cursor: PageCursor = None,
    ) -> DeadLetterPage:
        """The tenant's failed notifications, newest failure first."""
        check_times(since=since, until=until)
        flt = FilterIn(error_code=error_code, event_type=event_type, since=since, until=until)
        return await dead_letters.list(principal, flt, limit=limit, cursor=cursor)

    @post(
        "/replay",
        status_code=200,
        dto=JsonBody[ReplayIn],
        return_dto=None,
        **operation("replayDeadLetters", "dead_letters:manage", body=True, errors=(422,)),
    )
    async def replay(
        self,
        data: JSONBody[ReplayIn],
        principal: NamedDependency[Principal],
        dead_letters: NamedDependency[DeadLetterService],
    ) -> ReplayOut:
        """Send failed notifications again, by id or by filter (at most 1000 per call)."""
        return await dead_letters.replay(principal, data)
