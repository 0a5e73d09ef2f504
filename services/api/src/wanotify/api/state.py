"""Everything the handlers use, created in the app's lifespan (never at import time)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.datastructures import State

from wanotify.api.notifications.service import NotificationService
from wanotify.common.domain.notification import Principal


class AppState(State):
    notifications: NotificationService
    authenticate: Callable[[Request[Any, Any, Any], str], Awaitable[Principal]]
    health: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]
