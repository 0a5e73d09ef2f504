"""Everything the handlers use, created in the app's lifespan (never at import time)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.datastructures import State

from wanotify.api.notifications.service import NotificationService

if TYPE_CHECKING:
    from wanotify.api.dead_letters.controller import DeadLetterService
    from wanotify.api.ingress import IngressGate
    from wanotify.api.senders.controller import SenderService
    from wanotify.api.templates.service import TemplateService
    from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import Principal


class AppState(State):
    notifications: NotificationService
    senders: SenderService
    dead_letters: DeadLetterService
    templates: TemplateService
    uow: Callable[[], UnitOfWork]
    ingress: IngressGate
    authenticate: Callable[[Request[Any, Any, Any], str], Awaitable[Principal]]
    health: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]
