"""``wa-notify api``."""

from __future__ import annotations

import asyncio

from wanotify.api.app import create_app
from wanotify.common.config import Settings
from wanotify.common.http import serve


def run(settings: Settings) -> None:
    asyncio.run(serve(create_app(settings), settings.api.host, settings.api.port))
