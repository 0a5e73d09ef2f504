"""``wa-notify receiver``."""

from __future__ import annotations

from wanotify.common.config import Settings
from wanotify.common.http import serve_until_signalled
from wanotify.receiver.app import create_app


def run(settings: Settings) -> None:
    serve_until_signalled(create_app(settings), settings.receiver.host, settings.receiver.port)
