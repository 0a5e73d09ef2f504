"""A client generated from the served document works: openapi-python-client, as a user runs it.

The API is served by real uvicorn on the session's PostgreSQL, Redis and sandbox. The document is
fetched from ``/schema/openapi.json``, a client package is generated from it into a temporary
directory, and the test uses only that package's typed models and functions to send, read, list
and cancel a notification, and to read the error shape of a refusal.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.support.world import TenantFixture
from tests.unit.served import served
from wanotify.api.app import create_app
from wanotify.common.config import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PACKAGE = "wa_notify_generated_client"


def generate(document: bytes, into: Path) -> None:
    spec = into / "openapi.json"
    spec.write_bytes(document)
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(into / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Anything but the note that ruff is not on PATH would be a part of the document it dropped.
    warnings = [
        line
        for line in result.stdout.splitlines()
        if line.strip().startswith(("Unable", "Failure", "Attempted", "Invalid", "Could not"))
    ]
    assert not warnings, result.stdout


def load(root: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(root))


async def test_a_generated_client_sends_reads_lists_and_cancels(
    settings: Settings, tenant: TenantFixture, tmp_path: Path
) -> None:
    async with served(create_app(settings)) as (host, port):
        base_url = f"http://{host}:{port}"
        async with httpx.AsyncClient() as http:
            document = (await http.get(f"{base_url}/schema/openapi.json")).content
        generate(document, tmp_path)
        client_module = load(tmp_path, "client")
        models = load(tmp_path, "models")
        create = load(tmp_path, "api.notifications.create_notification")
        read = load(tmp_path, "api.notifications.get_notification")
        listing = load(tmp_path, "api.notifications.list_notifications")
        cancel = load(tmp_path, "api.notifications.cancel_notification")

        client: Any = client_module.AuthenticatedClient(base_url=base_url, token=tenant.api_key)
        body = models.NotificationIn(
            event_type="order.placed",
            recipient=models.RecipientIn(phone_number="+14155550123"),
            template=models.TemplateIn(
                name="order_confirmation",
                language="en_US",
                parameters=[
                    models.TemplateParameterIn(type_=models.TemplateParameterInType.TEXT, value="Ana"),
                    models.TemplateParameterIn(type_=models.TemplateParameterInType.TEXT, value="ORD-1"),
                    models.TemplateParameterIn(
                        type_=models.TemplateParameterInType.CURRENCY, value="99.99", code="USD"
                    ),
                ],
            ),
            metadata=models.NotificationInMetadata.from_dict(
                {"order_id": "ORD-1", "lines": [{"sku": "A", "n": 2}]}
            ),
            priority=models.NotificationInPriority.HIGH,
            # An hour ahead, so that no worker of another test on the session database takes it first.
            scheduled_for=datetime.now(UTC) + timedelta(hours=1),
        )
        async with client as c:
            created = await create.asyncio_detailed(client=c, body=body, x_idempotency_key="gen-client-1")
            assert created.status_code == 201, created.content
            assert isinstance(created.parsed, models.NotificationCreated)
            notification_id = created.parsed.id

            got = await read.asyncio(notification_id, client=c)
            assert isinstance(got, models.NotificationView)
            assert (got.id, got.status, got.priority) == (notification_id, "scheduled", "high")
            assert got.metadata.to_dict() == {"order_id": "ORD-1", "lines": [{"sku": "A", "n": 2}]}

            page = await listing.asyncio(client=c, limit=10)
            assert isinstance(page, models.NotificationPage)
            assert notification_id in [n.id for n in page.notifications]

            canceled = await cancel.asyncio(notification_id, client=c)
            assert isinstance(canceled, models.NotificationView)
            assert canceled.status == "canceled"

            again = await cancel.asyncio_detailed(notification_id, client=c)
            assert again.status_code == 409
            assert isinstance(again.parsed, models.ErrorEnvelope)
            assert again.parsed.error.code and again.parsed.error.trace_id

            missing = await read.asyncio_detailed("notif_nothing_here", client=c)
            assert missing.status_code == 404
            assert isinstance(missing.parsed, models.ErrorEnvelope)
