"""The ``wa-notify`` command line: one entry point for every service and the admin tasks."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from wanotify.common.config import ConfigError, Settings, load_settings


def _service(name: str) -> Settings:
    """Settings, JSON logs and tracing for one service process."""
    from wanotify.common.logging import configure_logging
    from wanotify.common.telemetry import configure_tracing, instrument_clients

    settings = load_settings(os.environ)
    configure_logging(name, settings.telemetry.log_level)
    configure_tracing(settings.telemetry, name, settings.version)
    instrument_clients()
    return settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wa-notify", description="Transactional WhatsApp notifications.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start everything on this machine (embedded PostgreSQL, Redis, sandbox)")
    for name, text in (
        ("api", "the ingest API"),
        ("worker", "the queue worker"),
        ("receiver", "Meta's webhook receiver"),
        ("scheduler", "scheduled work, outbox relay, recovery"),
        ("sandbox", "the local stand-in for Meta's Cloud API (dev and test)"),
        ("migrate", "apply database migrations"),
    ):
        sub.add_parser(name, help=text)
    openapi = sub.add_parser(
        "openapi", help="print a service's OpenAPI document (what /schema/openapi.json serves)"
    )
    openapi.add_argument("--service", choices=("api", "receiver"), default="api")
    openapi.add_argument(
        "--readme", metavar="PATH", help="rewrite the generated API blocks of this README instead of printing"
    )
    webhooks = sub.add_parser("webhooks", help="client webhooks").add_subparsers(dest="action", required=True)
    listen = webhooks.add_parser(
        "listen",
        help="receive your tenant's events here: a local endpoint, signatures checked, events printed",
    )
    listen.add_argument("--api-url", default="http://127.0.0.1:8080", help="the API (default: make run's)")
    listen.add_argument("--key", default=None, help="an API key with webhooks:manage (default: the demo key)")
    listen.add_argument("--events", default="*", help="comma-separated event types or wildcards (default: *)")
    listen.add_argument("--port", type=int, default=0, help="local port (default: a free one)")
    tenants = sub.add_parser("tenants", help="manage tenants").add_subparsers(dest="action", required=True)
    create = tenants.add_parser("create", help="create a tenant and print its id")
    create.add_argument("--name", required=True)
    create.add_argument("--id", dest="tenant_id")
    policy = tenants.add_parser(
        "policy",
        help="show a tenant's policy, or replace it with --set (language fallback, attempts, keywords)",
    )
    policy.add_argument("--tenant", required=True)
    policy.add_argument(
        "--set",
        dest="policy_json",
        help='JSON, e.g. \'{"language_fallback": {"pt_BR": ["pt", "en"]}, "max_attempts": {"high": 8}}\'',
    )
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    kc = keys.add_parser("create", help="create an API key (printed once, stored as sha256)")
    kc.add_argument("--tenant", required=True)
    kc.add_argument("--name", default="default")
    kc.add_argument(
        "--scope", action="append", dest="scopes", help="repeatable; default: every scope (see README)"
    )
    senders = sub.add_parser("senders", help="manage WhatsApp senders").add_subparsers(
        dest="action", required=True
    )
    sa = senders.add_parser("add", help="register a phone number (the access token is encrypted at rest)")
    sa.add_argument("--tenant", required=True)
    sa.add_argument("--phone-number-id", required=True)
    sa.add_argument("--waba-id", required=True)
    sa.add_argument("--display-phone-number", required=True)
    sa.add_argument(
        "--access-token-env",
        default="WA_SENDER_ACCESS_TOKEN",
        help="environment variable holding the token (never pass secrets as arguments)",
    )
    sa.add_argument(
        "--throughput", type=int, default=80, choices=(20, 80, 1000), help="messages per second (Meta's tier)"
    )
    sa.add_argument(
        "--messaging-limit",
        type=int,
        default=None,
        choices=(250, 2000, 10000, 100000),
        help="unique users per 24 h outside the service window; omit for unlimited",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    from wanotify.cli import admin

    command = args.command
    if command == "up":
        from wanotify.cli.up import run_up

        return run_up()
    if command == "api":
        from wanotify.api.main import run as run_api

        run_api(_service("api"))
    elif command == "worker":
        from wanotify.worker.main import run as run_worker

        run_worker(_service("worker"))
    elif command == "receiver":
        from wanotify.receiver.main import run as run_receiver

        run_receiver(_service("receiver"))
    elif command == "scheduler":
        from wanotify.scheduler.main import run as run_scheduler

        run_scheduler(_service("scheduler"))
    elif command == "sandbox":
        from wanotify.sandbox.main import run as run_sandbox
        from wanotify.sandbox.settings import load_sandbox_settings

        run_sandbox(load_sandbox_settings(os.environ))
    elif command == "openapi":
        from wanotify.cli.openapi import document, document_json, render_readme

        settings = load_settings(os.environ)
        if args.readme:
            path = Path(args.readme)
            path.write_text(render_readme(path.read_text(), document("api", settings)))
        else:
            print(document_json(args.service, settings))
    elif command == "webhooks":
        from wanotify.cli.listen import run_listen

        settings = load_settings(os.environ)
        events = [e.strip() for e in args.events.split(",") if e.strip()]
        return run_listen(args.api_url, args.key, Path(settings.data_dir) / "dev-api-key", events, args.port)
    elif command == "migrate":
        asyncio.run(admin.run_migrations(load_settings(os.environ)))
        print("migrations applied")
    elif command == "tenants" and args.action == "policy":
        print(asyncio.run(admin.tenant_policy(load_settings(os.environ), args.tenant, args.policy_json)))
    elif command == "tenants":
        print(asyncio.run(admin.create_tenant(load_settings(os.environ), args.name, args.tenant_id)))
    elif command == "keys":
        scopes = tuple(args.scopes) if args.scopes else admin.DEFAULT_SCOPES
        key_id, key = asyncio.run(
            admin.create_key(load_settings(os.environ), args.tenant, name=args.name, scopes=scopes)
        )
        print(f"key id: {key_id}\nkey:    {key}\n(shown once; only its sha256 is stored)")
    elif command == "senders":
        token = os.environ.get(args.access_token_env, "")
        if not token:
            print(f"set {args.access_token_env} to the sender's access token", file=sys.stderr)
            return 2
        print(
            asyncio.run(
                admin.add_sender(
                    load_settings(os.environ),
                    args.tenant,
                    phone_number_id=args.phone_number_id,
                    waba_id=args.waba_id,
                    display_phone_number=args.display_phone_number,
                    access_token=token,
                    throughput_mps=args.throughput,
                    messaging_limit=args.messaging_limit,
                )
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
