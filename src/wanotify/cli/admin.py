"""Administrative commands: migrate, tenants, API keys, senders."""

from __future__ import annotations

from datetime import datetime

import msgspec

from wanotify.common.config import Settings, require
from wanotify.common.crypto import SecretBox
from wanotify.common.db.engine import create_engine
from wanotify.common.db.migrate import migrate
from wanotify.common.db.tenants import DEFAULT_SCOPES as DEFAULT_SCOPES
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import DomainError
from wanotify.common.domain.tenant import TenantPolicy


async def run_migrations(settings: Settings) -> None:
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def create_tenant(settings: Settings, name: str, tenant_id: str | None = None) -> str:
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with UnitOfWork(engine) as uow:
            tid = await uow.tenants.create(name, tenant_id)
            await uow.commit()
        return tid
    finally:
        await engine.dispose()


async def tenant_policy(settings: Settings, tenant_id: str, policy_json: str | None) -> str:
    """Print the tenant's policy; with ``policy_json``, validate and store it first."""
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with UnitOfWork(engine) as uow:
            if not await uow.tenants.exists(tenant_id):
                raise SystemExit(f"no tenant {tenant_id}")
            if policy_json is not None:
                try:
                    new = msgspec.json.decode(policy_json, type=TenantPolicy)
                except msgspec.DecodeError as exc:
                    raise SystemExit(f"invalid policy: {exc}") from None
                await uow.tenants.set_policy(tenant_id, new)
                await uow.commit()
            current = await uow.tenants.policy(tenant_id)
        return msgspec.json.format(msgspec.json.encode(current)).decode()
    finally:
        await engine.dispose()


async def create_key(
    settings: Settings,
    tenant_id: str,
    *,
    name: str = "default",
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    expires_at: datetime | None = None,
) -> tuple[str, str]:
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with UnitOfWork(engine) as uow:
            if not await uow.tenants.exists(tenant_id):
                raise SystemExit(f"no tenant {tenant_id}")
            try:
                key_id, key = await uow.tenants.create_key(
                    tenant_id, name=name, scopes=scopes, expires_at=expires_at
                )
            except DomainError as exc:  # an unknown scope
                raise SystemExit(exc.message) from None
            await uow.commit()
        return key_id, key
    finally:
        await engine.dispose()


async def add_sender(
    settings: Settings,
    tenant_id: str,
    *,
    phone_number_id: str,
    waba_id: str,
    display_phone_number: str,
    access_token: str,
    throughput_mps: int = 80,
    messaging_limit: int | None = None,
) -> str:
    box = SecretBox(require(settings.encryption_key, "WA_ENCRYPTION_KEY"))
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with UnitOfWork(engine) as uow:
            sid = await uow.senders.add(
                tenant_id,
                phone_number_id=phone_number_id,
                waba_id=waba_id,
                display_phone_number=display_phone_number,
                access_token_encrypted=box.encrypt(access_token, context=phone_number_id.encode()),
                throughput_mps=throughput_mps,
                messaging_limit=messaging_limit,
            )
            await uow.commit()
        return sid
    finally:
        await engine.dispose()
