"""The embedded demo: secrets kept under the data folder, a tenant with a sender, sandbox templates."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import update

from wanotify.api.examples import ORDER_CONFIRMATION
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox, generate_key
from wanotify.common.db.engine import create_engine
from wanotify.common.db.schema import api_keys
from wanotify.common.db.tenants import DEFAULT_SCOPES
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.meta.client import MetaClient, create_http_client
from wanotify.common.template_sync import TemplateSyncer

DEMO_RECIPIENT = "+14155550123"


class LocalSecrets(msgspec.Struct):
    encryption_key: str
    app_secret: str
    verify_token: str
    demo_access_token: str
    demo_tenant_id: str = "ten_demo"
    demo_phone_number_id: str = "109876543210001"
    demo_waba_id: str = "209876543210001"
    demo_display_phone_number: str = "+15550100001"


def load_or_create_secrets(data_dir: Path) -> LocalSecrets:
    path = data_dir / "secrets.json"
    if path.exists():
        return msgspec.json.decode(path.read_bytes(), type=LocalSecrets)
    local = LocalSecrets(
        encryption_key=generate_key(),
        app_secret=secrets.token_hex(32),
        verify_token=secrets.token_urlsafe(24),
        demo_access_token="EAA" + secrets.token_urlsafe(48),
    )
    _write_private(path, msgspec.json.format(msgspec.json.encode(local)))
    return local


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)


def _template(tid: str, name: str, language: str, body: str, category: str = "UTILITY") -> dict[str, Any]:
    return {
        "id": tid,
        "name": name,
        "language": language,
        "status": "APPROVED",
        "category": category,
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body}],
    }


def sandbox_seed(local: LocalSecrets) -> dict[str, Any]:
    waba = local.demo_waba_id
    templates = [
        _template(
            "1001", "order_confirmation", "en_US", "Hi {{1}}, your order {{2}} is confirmed. Total: {{3}}."
        ),
        _template(
            "1002", "order_confirmation", "pt_BR", "Olá {{1}}, seu pedido {{2}} foi confirmado. Total: {{3}}."
        ),
        _template("1003", "shipping_update", "en", "Your order {{1}} has shipped. Track it at {{2}}."),
        _template("1004", "otp_code", "en", "{{1}} is your verification code.", "AUTHENTICATION"),
    ]
    return {
        "phone_numbers": [
            {
                "phone_number_id": local.demo_phone_number_id,
                "waba_id": waba,
                "access_token": local.demo_access_token,
                "display_phone_number": local.demo_display_phone_number,
            }
        ],
        "templates": [{"waba_id": waba, **t} for t in templates],
    }


def write_sandbox_seed(data_dir: Path, local: LocalSecrets) -> Path:
    path = data_dir / "sandbox-seed.json"
    _write_private(path, json.dumps(sandbox_seed(local), indent=2).encode())
    return path


async def ensure_demo_tenant(database_url: str, local: LocalSecrets, key_file: Path) -> str:
    saved_key = await asyncio.to_thread(_read_key, key_file)
    """Create the demo tenant, sender and key once; reuse the key on later runs while it is valid."""
    engine = create_engine(database_url, pool_size=1)
    box = SecretBox(local.encryption_key)
    try:
        async with UnitOfWork(engine) as uow:
            if not await uow.tenants.exists(local.demo_tenant_id):
                await uow.tenants.create("Demo tenant", local.demo_tenant_id)
            if await uow.senders.by_phone_number_id(local.demo_phone_number_id) is None:
                await uow.senders.add(
                    local.demo_tenant_id,
                    phone_number_id=local.demo_phone_number_id,
                    waba_id=local.demo_waba_id,
                    display_phone_number=local.demo_display_phone_number,
                    access_token_encrypted=box.encrypt(
                        local.demo_access_token, context=local.demo_phone_number_id.encode()
                    ),
                )
            key = saved_key
            principal = await uow.tenants.principal_for_key(key) if key else None
            if principal is None:
                _, key = await uow.tenants.create_key(local.demo_tenant_id, name="dev")
                _write_private(key_file, (key + "\n").encode())
            elif not set(DEFAULT_SCOPES) <= principal.scopes:  # a key from an older version
                await uow.connection.execute(
                    update(api_keys)
                    .where(api_keys.c.id == principal.key_id)
                    .values(scopes=list(DEFAULT_SCOPES))
                )
            await uow.commit()
        return key
    finally:
        await engine.dispose()


async def sync_demo_templates(settings: Settings, local: LocalSecrets) -> str | None:
    """Our template registry from the sandbox (so the curl line passes the ingest checks).

    Returns an error to print, or None. The scheduler syncs again every TEMPLATE_SYNC_INTERVAL_SECONDS.
    """
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_http_client(settings.meta, max_connections=2) as http:
            syncer = TemplateSyncer(
                lambda: UnitOfWork(engine), MetaClient(settings.meta, http), SecretBox(local.encryption_key)
            )
            results = await syncer.sync_tenant(local.demo_tenant_id)
    finally:
        await engine.dispose()
    errors = [r.error for r in results if r.error]
    return errors[0] if errors else None


def _read_key(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


def curl_lines(api_url: str, key: str) -> tuple[str, str]:
    # The document's own example: what the curl line sends is what the API reference shows.
    body = json.dumps({**ORDER_CONFIRMATION, "recipient": {"phone_number": DEMO_RECIPIENT}})
    send = (
        f"curl -s -X POST {api_url}/v1/notifications -H 'Authorization: Bearer {key}' "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )
    status = f"curl -s {api_url}/v1/notifications/<id> -H 'Authorization: Bearer {key}'"
    return send, status
