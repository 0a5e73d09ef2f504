"""What the dispatch benchmarks share: service processes, the sandbox, a sender that exists both at
'Meta' and in our database, and template notifications published as the API would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from wanotify.common.config import load_settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.message import TemplateContent
from wanotify.common.domain.notification import NewNotification
from wanotify.common.domain.status import Status
from wanotify.common.domain.template import MetaTemplate
from wanotify.common.ids import new_id
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue

HELLO = {"name": "hello", "language": "en", "status": "APPROVED", "category": "UTILITY"}
HELLO_COMPONENTS = [{"type": "BODY", "text": "Hello from wa-notify."}]


def start_service(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``wa-notify <args>`` as a process, its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "wanotify.cli.main", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_sandbox(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sandbox/health").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the sandbox did not start")


async def add_sender(
    env: dict[str, str], sandbox_url: str, *, tenant_name: str, pnid: str, waba: str, token: str, tier: int
) -> tuple[str, str]:
    """A tenant with one sender at ``tier`` msg/s, at Meta (the sandbox) and here, with the ``hello``
    template in both; returns (tenant id, sender id)."""
    settings = load_settings(env)
    async with httpx.AsyncClient(base_url=sandbox_url) as http:
        phone = {"phone_number_id": pnid, "waba_id": waba, "access_token": token}
        r = await http.post(
            "/_sandbox/phone-numbers",
            json={**phone, "display_phone_number": "+15550100009", "throughput_mps": tier},
        )
        r.raise_for_status()
        template = {"waba_id": waba, **HELLO, "components": HELLO_COMPONENTS}
        (await http.post("/_sandbox/templates", json=template)).raise_for_status()
    engine = create_engine(settings.database_url, pool_size=1)
    sealed = SecretBox(settings.encryption_key).encrypt(token, context=pnid.encode())
    try:
        async with UnitOfWork(engine) as uow:
            tenant = await uow.tenants.create(tenant_name)
            sender = await uow.senders.add(
                tenant,
                phone_number_id=pnid,
                waba_id=waba,
                display_phone_number="+15550100009",
                access_token_encrypted=sealed,
                throughput_mps=tier,
            )
            await uow.templates.upsert(tenant, waba, [MetaTemplate(**HELLO, components=HELLO_COMPONENTS)])
            await uow.commit()
    finally:
        await engine.dispose()
    return tenant, sender


def hello_notification(
    tenant: str, sender: str, phone: str, *, priority: str = "normal", event_type: str = "bench"
) -> NewNotification:
    return NewNotification(
        id=new_id("notif"),
        tenant_id=tenant,
        sender_id=sender,
        event_type=event_type,
        recipient_phone=phone,
        priority=priority,
        status=Status.QUEUED,
        message=TemplateContent(name="hello", language="en"),
        metadata={},
        max_attempts=5,
        scheduled_for=None,
        next_attempt_at=None,
        batch_id=None,
        trace_id=None,
        traceparent=None,
    )


async def publish(env: dict[str, str], items: Sequence[NewNotification]) -> None:
    """Rows and queue messages in one transaction per 500, as the API leaves them."""
    settings = load_settings(env)
    engine = create_engine(settings.database_url, pool_size=1)
    publisher = Publisher(create_queue(settings.queue, engine), engine)
    try:
        for start in range(0, len(items), 500):
            async with UnitOfWork(engine) as uow:
                added = await uow.notifications.add_many(items[start : start + 500])
                await publisher.publish_in(uow.connection, added)
                await uow.commit()
    finally:
        await engine.dispose()
