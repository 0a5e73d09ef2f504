"""The sandbox's Litestar application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.logging.config import LoggingConfig

from wanotify.sandbox.admin_routes import admin_routes
from wanotify.sandbox.catalog import load_seed
from wanotify.sandbox.errors import MetaError
from wanotify.sandbox.limits import RateLimiter
from wanotify.sandbox.media_routes import media_routes
from wanotify.sandbox.meta_routes import meta_routes
from wanotify.sandbox.responses import meta_error_response
from wanotify.sandbox.sending import Sender
from wanotify.sandbox.settings import SandboxSettings
from wanotify.sandbox.state import SandboxState
from wanotify.sandbox.template_manage import TemplateManager
from wanotify.sandbox.webhooks import WebhookDispatcher


def create_app(settings: SandboxSettings) -> Litestar:
    state = SandboxState(settings.media_max_bytes)
    if settings.seed_file:
        state.apply_seed(load_seed(settings.seed_file))
    dispatcher = WebhookDispatcher(settings, state)
    limiter = RateLimiter(settings)
    sender = Sender(settings, state, dispatcher, limiter)
    templates = TemplateManager(state, dispatcher, settings.template_review_seconds)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()

    return Litestar(
        route_handlers=[
            *meta_routes(sender, state, templates),
            *media_routes(state),
            *admin_routes(state, dispatcher, limiter),
        ],
        exception_handlers={MetaError: meta_error_response},
        lifespan=[lifespan],
        openapi_config=None,
        # Leave the host process's root logger alone; still log unexpected exceptions.
        logging_config=LoggingConfig(configure_root_logger=False, log_exceptions="always"),
    )
