"""``wa-notify receiver``."""

from __future__ import annotations

import asyncio

from wanotify.common.config import Settings
from wanotify.common.http import serve
from wanotify.receiver.app import create_app


def run(settings: Settings) -> None:
    asyncio.run(serve(create_app(settings), settings.receiver.host, settings.receiver.port))
