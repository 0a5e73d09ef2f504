"""The scheduler's periodic template sync, run as the scheduler runs it, against the sandbox."""

from __future__ import annotations

import asyncio

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import eventually
from tests.support.world import TenantFixture, add_sandbox_templates, template
from wanotify.common.config import Settings
from wanotify.common.db.uow import UnitOfWork
from wanotify.scheduler.template_sync import run_template_sync


async def test_the_periodic_sync_picks_up_new_and_changed_templates(
    settings: Settings, engine: AsyncEngine, tenant: TenantFixture, sandbox_url: str
) -> None:
    fast = msgspec.structs.replace(
        settings, scheduler=msgspec.structs.replace(settings.scheduler, template_sync_interval_seconds=0.5)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_template_sync(fast, engine, stop))
    try:

        async def registry() -> dict[str, str]:
            async with UnitOfWork(engine) as uow:
                return {t.name: t.status for t in await uow.templates.for_tenant(tenant.tenant_id)}

        await add_sandbox_templates(sandbox_url, tenant.waba_id, template("late_arrival", "en", "Hi {{1}}"))
        await eventually(registry, lambda r: "late_arrival" in r, timeout=30, what="the new template")
        await add_sandbox_templates(
            sandbox_url, tenant.waba_id, template("hello", "en", "x", status="DISABLED")
        )
        found = await eventually(
            registry, lambda r: r.get("hello") == "DISABLED", timeout=30, what="the change"
        )
        assert found["order_confirmation"] == "APPROVED"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_an_interval_of_zero_disables_it(settings: Settings, engine: AsyncEngine) -> None:
    off = msgspec.structs.replace(
        settings, scheduler=msgspec.structs.replace(settings.scheduler, template_sync_interval_seconds=0)
    )
    await asyncio.wait_for(run_template_sync(off, engine, asyncio.Event()), 5)  # returns at once
