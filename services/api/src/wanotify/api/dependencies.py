"""What handlers ask for by name: the caller (set by the guard) and the services (from the slot)."""

from __future__ import annotations

from litestar.di import Provide

from wanotify.api.guards import current_principal, granted_quota
from wanotify.api.services import ServiceSlot


def dependencies(slot: ServiceSlot) -> dict[str, Provide]:
    return {
        "principal": Provide(current_principal, sync_to_thread=False),
        "granted": Provide(granted_quota, sync_to_thread=False),
        "notifications": Provide(lambda: slot.get().notifications, sync_to_thread=False),
        "templates": Provide(lambda: slot.get().templates, sync_to_thread=False),
        "senders": Provide(lambda: slot.get().senders, sync_to_thread=False),
        "dead_letters": Provide(lambda: slot.get().dead_letters, sync_to_thread=False),
        "opt_outs": Provide(lambda: slot.get().opt_outs, sync_to_thread=False),
        "webhooks": Provide(lambda: slot.get().webhooks, sync_to_thread=False),
        "api_keys": Provide(lambda: slot.get().api_keys, sync_to_thread=False),
    }
