"""``wa-notify api``."""

from __future__ import annotations

from wanotify.api.app import create_app
from wanotify.common.config import Settings
from wanotify.common.http import serve_until_signalled


def run(settings: Settings) -> None:
    serve_until_signalled(create_app(settings), settings.api.host, settings.api.port)
