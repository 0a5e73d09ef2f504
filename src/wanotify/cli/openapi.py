"""``wa-notify openapi``: the document a service serves at ``/schema/openapi.json``, built without
starting the service (no database or Redis is touched)."""

from __future__ import annotations

from typing import Any

import msgspec

from wanotify.common.config import Settings


def document(service: str, settings: Settings) -> dict[str, Any]:
    if service == "receiver":
        from wanotify.receiver.app import create_app as create_receiver
        from wanotify.receiver.openapi import finish_document

        return finish_document(create_receiver(settings).openapi_schema.to_schema())
    from wanotify.api.app import create_app as create_api
    from wanotify.api.openapi import served_document

    return served_document(create_api(settings))


def document_json(service: str, settings: Settings) -> str:
    return msgspec.json.format(msgspec.json.encode(document(service, settings)), indent=2).decode()
