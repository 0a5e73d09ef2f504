"""``/v1/dead-letters``: the tenant's failed notifications, listable and replayable.

Failed notifications are the dead-letter set (poison messages from SQS's DLQ are folded back into
it by the scheduler). A replay sends them again as new attempts: ``queued``, ``max_attempts =
attempt + the tenant's attempts for the priority``, the error cleared, a ``replayed`` log row.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, get, post

from wanotify.api.notifications.schemas import NotificationView
from wanotify.api.notifications.service import view_of
from wanotify.api.state import AppState
from wanotify.common.db.failures import DeadLetterFilter, FailureRepository
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import MalformedJson, UnsupportedMediaType, ValidationFailed
from wanotify.common.domain.notification import Principal
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher

MAX_PAGE = 100
DEFAULT_PAGE = 50
MAX_REPLAY = 1000


class FilterIn(msgspec.Struct, forbid_unknown_fields=True):
    error_code: str | None = None
    event_type: str | None = None
    since: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    until: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class ReplayIn(msgspec.Struct, forbid_unknown_fields=True):
    ids: list[str] | None = None
    filter: FilterIn | None = None


class DeadLetterPage(msgspec.Struct):
    dead_letters: list[NotificationView]
    next_cursor: str | None


class ReplayOut(msgspec.Struct):
    replayed: int
    ids: list[str]
    not_replayed: list[str]  # requested ids that are not (or no longer) failed notifications of yours


def _filter(f: FilterIn) -> DeadLetterFilter:
    return DeadLetterFilter(error_code=f.error_code, event_type=f.event_type, since=f.since, until=f.until)


def encode_cursor(failed_at: datetime, notification_id: str) -> str:
    raw = msgspec.json.encode([failed_at.isoformat(), notification_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, notification_id = msgspec.json.decode(raw, type=tuple[str, str])
        parsed = datetime.fromisoformat(at)
    except (binascii.Error, msgspec.DecodeError, msgspec.ValidationError, ValueError):
        raise ValidationFailed("cursor is not a cursor this API returned", field="cursor") from None
    if parsed.tzinfo is None:
        raise ValidationFailed("cursor is not a cursor this API returned", field="cursor")
    return parsed, notification_id


def _time_param(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationFailed(f"{name} must be an ISO 8601 time with a time zone", field=name)
    return value


def _limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationFailed(f"limit must be an integer from 1 to {MAX_PAGE}", field="limit")
    return int(raw)


class DeadLetterService:
    def __init__(
        self, uow: Callable[[], UnitOfWork], publisher: Publisher, metrics: Metrics, *, max_attempts: int
    ) -> None:
        self._uow = uow
        self._publisher = publisher
        self._metrics = metrics
        self._max_attempts = max_attempts

    async def list(self, principal: Principal, params: Mapping[str, str]) -> DeadLetterPage:
        flt = DeadLetterFilter(
            error_code=params.get("error_code") or None,
            event_type=params.get("event_type") or None,
            since=_time_param(params, "since"),
            until=_time_param(params, "until"),
        )
        limit = _limit(params)
        cursor = params.get("cursor")
        after = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            rows = await FailureRepository(uow.connection).dead_letters(
                principal.tenant_id, flt, limit=limit + 1, after=after
            )
        page = rows[:limit]
        last = page[-1] if page else None
        more = len(rows) > limit and last is not None and last.failed_at is not None
        next_cursor = encode_cursor(last.failed_at, last.id) if more and last and last.failed_at else None
        return DeadLetterPage([view_of(n) for n in page], next_cursor)

    async def replay(self, principal: Principal, body: bytes) -> ReplayOut:
        try:
            req = msgspec.json.decode(body, type=ReplayIn)
        except msgspec.ValidationError as exc:
            raise ValidationFailed(str(exc)) from None
        except msgspec.DecodeError as exc:
            raise MalformedJson(f"Request body is not valid JSON: {exc}") from None
        if (req.ids is None) == (req.filter is None):
            raise ValidationFailed("Give exactly one of ids or filter")
        if req.ids is not None:
            if not req.ids:
                raise ValidationFailed("ids must hold at least one id", field="ids")
            if len(req.ids) > MAX_REPLAY:
                raise ValidationFailed(f"at most {MAX_REPLAY} ids per call", field="ids")
        async with self._uow() as uow:
            policy = await uow.tenants.policy(principal.tenant_id)
            replayed = await FailureRepository(uow.connection).replay(
                principal.tenant_id,
                ids=req.ids,
                flt=_filter(req.filter) if req.filter is not None else None,
                attempts=policy.max_attempts,
                default_attempts=self._max_attempts,
                limit=MAX_REPLAY,
            )
            published = await self._publisher.publish_in(uow.connection, replayed)
            await uow.commit()
        if not published:
            await self._publisher.publish(replayed)
        self._metrics.transitions.labels("queued").inc(len(replayed))
        ids = [n.id for n in replayed]
        done = set(ids)
        return ReplayOut(len(ids), ids, [i for i in (req.ids or []) if i not in done])


class DeadLetterController(Controller):
    path = "/v1/dead-letters"
    tags = ["dead letters"]

    @get("/")
    async def list_dead_letters(self, request: Request[Any, Any, Any], state: AppState) -> DeadLetterPage:
        principal = await state.authenticate(request, "dead_letters:read")
        return await state.dead_letters.list(principal, dict(request.query_params))

    @post("/replay", status_code=200)
    async def replay(self, request: Request[Any, Any, Any], state: AppState) -> ReplayOut:
        principal = await state.authenticate(request, "dead_letters:manage")
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != MediaType.JSON:
            raise UnsupportedMediaType("Content-Type must be application/json", field="Content-Type")
        return await state.dead_letters.replay(principal, await request.body())
