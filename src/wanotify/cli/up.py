"""``wa-notify up``: the whole service on this machine.

PostgreSQL and Redis from wheels (unless DATABASE_URL / REDIS_URL point elsewhere), the queue in
PostgreSQL, the sandbox in place of Meta, and the four services as child processes that are
restarted if they die. Ctrl-C stops the services first, then the sandbox, Redis and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from wanotify.cli.admin import run_migrations
from wanotify.cli.demo import (
    curl_lines,
    ensure_demo_tenant,
    load_or_create_secrets,
    sync_demo_templates,
    write_sandbox_seed,
)
from wanotify.cli.embedded import EmbeddedPostgres, EmbeddedRedis
from wanotify.common.config import load_settings

SERVICES = ("api", "receiver", "worker", "scheduler")


class Child:
    def __init__(self, name: str, env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self._env = dict(env)
        self._log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts: list[float] = []

    def start(self) -> None:
        log = self._log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wanotify.cli.main", self.name],
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 25) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def _wait_http(url: str, timeout: float, children: list[Child]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in children:
            if c.process is not None and c.process.poll() is not None:
                raise RuntimeError(f"{c.name} exited during start-up; see its log")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def up(env: Mapping[str, str]) -> int:
    settings = load_settings(env)
    data_dir = Path(settings.data_dir).resolve()
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    local = load_or_create_secrets(data_dir)

    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    postgres = None if settings.database_url else EmbeddedPostgres(data_dir / "postgres")
    redis = None if settings.redis_url else EmbeddedRedis(data_dir / "redis")
    children: list[Child] = []
    try:
        print("starting PostgreSQL and Redis ...", flush=True)
        database_url = postgres.start() if postgres else settings.database_url
        redis_url = redis.start() if redis else settings.redis_url
        child_env = dict(env)
        child_env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            QUEUE_BACKEND=env.get("QUEUE_BACKEND") or "postgres",
            META_GRAPH_BASE_URL=env.get("META_GRAPH_BASE_URL")
            or f"http://{settings.sandbox.host}:{settings.sandbox.port}",
            META_APP_SECRET=env.get("META_APP_SECRET") or local.app_secret,
            META_VERIFY_TOKEN=env.get("META_VERIFY_TOKEN") or local.verify_token,
            WA_ENCRYPTION_KEY=env.get("WA_ENCRYPTION_KEY") or local.encryption_key,
            SANDBOX_WEBHOOK_URL=f"http://{settings.receiver.host}:{settings.receiver.port}/webhooks/whatsapp",
            SANDBOX_SEED_FILE=str(write_sandbox_seed(data_dir, local)),
            # Local development: a webhook sink on this machine, over plain http, must be reachable.
            WEBHOOK_ALLOW_HTTP=env.get("WEBHOOK_ALLOW_HTTP") or "true",
            WEBHOOK_ALLOW_PRIVATE_NETWORKS=env.get("WEBHOOK_ALLOW_PRIVATE_NETWORKS") or "true",
            PYTHONUNBUFFERED="1",
        )
        child_settings = load_settings(child_env)
        asyncio.run(run_migrations(child_settings))
        key = asyncio.run(ensure_demo_tenant(database_url, local, data_dir / "dev-api-key"))

        for name in ("sandbox", *SERVICES):
            child = Child(name, child_env, log_dir)
            child.start()
            children.append(child)
        api_url = f"http://{settings.api.host}:{settings.api.port}"
        _wait_http(f"http://{settings.sandbox.host}:{settings.sandbox.port}/_sandbox/health", 60, children)
        sync_error = asyncio.run(sync_demo_templates(child_settings, local))
        if sync_error:
            print(
                f"warning: the demo templates could not be synced: {sync_error}", file=sys.stderr, flush=True
            )
        _wait_http(f"{api_url}/livez", 60, children)
        _wait_http(f"http://{settings.receiver.host}:{settings.receiver.port}/livez", 60, children)
        send, status = curl_lines(api_url, key)
        print(
            f"""
wa-notify is running (embedded mode; data in {data_dir})
  API               {api_url}   (OpenAPI: {api_url}/schema/swagger)
  webhook receiver  http://{settings.receiver.host}:{settings.receiver.port}/webhooks/whatsapp
  Meta sandbox      http://{settings.sandbox.host}:{settings.sandbox.port}
  logs              {log_dir}/

API key (also in {data_dir / "dev-api-key"}):
  {key}

Send a notification:
  {send}

Then watch its status go queued → sent → delivered → read:
  {status}

Or hear of every change as a signed client webhook, in another terminal:
  .venv/bin/wa-notify webhooks listen

Ctrl-C stops everything.""",
            flush=True,
        )
        _supervise(children, lambda: stop_requested)
        return 0
    except RuntimeError as exc:
        print(f"wa-notify up failed: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nstopping ...", flush=True)
        for child in reversed(children):
            child.stop()
        if redis:
            redis.stop()
        if postgres:
            postgres.stop()
        print("stopped.", flush=True)


def _supervise(children: list[Child], stopping: object) -> None:
    """Restart a child that dies, at most 5 times a minute each."""
    assert callable(stopping)
    while not stopping():
        for child in children:
            if not child.alive() and not stopping():
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < 60] + [now]
                if len(child.restarts) > 5:
                    raise RuntimeError(f"{child.name} keeps crashing; see its log")
                print(
                    f"{child.name} exited (code {child.process.returncode if child.process else '?'}); "
                    "restarting",
                    file=sys.stderr,
                    flush=True,
                )
                child.start()
        time.sleep(0.5)


def run_up() -> int:
    return up(os.environ)
