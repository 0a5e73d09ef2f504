"""The whole path with every service as its own process, over real HTTP, in both modes.

Cluster mode: external PostgreSQL and Redis, SQS through moto's server, `wa-notify migrate` and the
admin commands. Embedded mode: `wa-notify up` exactly as `make run` starts it, including the curl
line it prints, a clean Ctrl-C, and a restart that keeps the data and the key.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from tests.support.processes import ServiceProcess, run_cli, wait_http
from tests.support.servers import create_database, drop_database, server_dir
from tests.support.world import order_request, template
from wanotify.api.examples import ORDER_CONFIRMATION
from wanotify.cli.embedded import free_port, port_open
from wanotify.common.crypto import generate_key

# Process-heavy: one xdist worker runs these one after another while the other runs the rest.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes")]

FINAL = {"read"}


def wait_for_status(api: str, key: str, nid: str, statuses: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        doc = httpx.get(f"{api}/v1/notifications/{nid}", headers={"Authorization": f"Bearer {key}"}).json()
        if doc.get("status") in statuses:
            return doc
        time.sleep(0.1)
    raise AssertionError(f"{nid} never reached {statuses}; last: {doc}")


@pytest.fixture
def cluster(
    tmp_path: Path, pg_admin_url: str, redis_server_url: str, moto_endpoint: str
) -> Iterator[dict[str, Any]]:
    import asyncio

    database_url = asyncio.run(create_database(pg_admin_url, "wanotify_e2e"))
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_endpoint)
    dlq = sqs.create_queue(QueueName=f"e2e-dlq-{secrets.token_hex(3)}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=f"e2e-send-{secrets.token_hex(3)}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "10"})},
    )["QueueUrl"]
    ports = {name: free_port() for name in ("api", "receiver", "worker", "scheduler", "sandbox")}
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server_url,
        "QUEUE_BACKEND": "sqs",
        "SQS_QUEUE_URL": queue_url,
        "SQS_ENDPOINT_URL": moto_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "QUEUE_WAIT_SECONDS": "1",
        "META_GRAPH_BASE_URL": f"http://127.0.0.1:{ports['sandbox']}",
        "META_APP_SECRET": secrets.token_hex(16),
        "META_VERIFY_TOKEN": secrets.token_hex(8),
        "WA_ENCRYPTION_KEY": generate_key(),
        "API_PORT": str(ports["api"]),
        "RECEIVER_PORT": str(ports["receiver"]),
        "WORKER_PORT": str(ports["worker"]),
        "SCHEDULER_PORT": str(ports["scheduler"]),
        "SANDBOX_PORT": str(ports["sandbox"]),
        "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{ports['receiver']}/webhooks/whatsapp",
        "SANDBOX_SENT_DELAY_SECONDS": "0.05",
        "SANDBOX_DELIVERED_DELAY_SECONDS": "0.1",
        "SANDBOX_READ_DELAY_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
    }
    processes: list[ServiceProcess] = []
    try:
        yield {"env": env, "ports": ports, "processes": processes, "logs": tmp_path / "logs"}
    finally:
        for p in reversed(processes):
            p.stop()
        asyncio.run(drop_database(pg_admin_url, database_url))


def test_cluster_mode_lifecycle(cluster: dict[str, Any]) -> None:
    env, ports, processes, logs = cluster["env"], cluster["ports"], cluster["processes"], cluster["logs"]
    assert "migrations applied" in run_cli(["migrate"], env)
    assert "migrations applied" in run_cli(["migrate"], env), "migrate must be idempotent"
    tenant_id = run_cli(["tenants", "create", "--name", "Acme"], env).strip()
    key = re.search(r"key:\s+(\S+)", run_cli(["keys", "create", "--tenant", tenant_id], env)).group(1)  # type: ignore[union-attr]
    phone_number_id, waba_id, token = "106540352242922", "102290129340398", "EAA" + secrets.token_hex(16)
    run_cli(
        [
            "senders",
            "add",
            "--tenant",
            tenant_id,
            "--phone-number-id",
            phone_number_id,
            "--waba-id",
            waba_id,
            "--display-phone-number",
            "+15550783881",
        ],
        {**env, "WA_SENDER_ACCESS_TOKEN": token},
    )

    sandbox = ServiceProcess(["sandbox"], env, logs / "sandbox.log").start()
    processes.append(sandbox)
    sandbox_url = f"http://127.0.0.1:{ports['sandbox']}"
    wait_http(f"{sandbox_url}/_sandbox/health", processes=processes)
    httpx.post(
        f"{sandbox_url}/_sandbox/phone-numbers",
        json={
            "phone_number_id": phone_number_id,
            "waba_id": waba_id,
            "access_token": token,
            "display_phone_number": "+15550783881",
        },
    ).raise_for_status()
    httpx.post(
        f"{sandbox_url}/_sandbox/templates",
        json={
            "waba_id": waba_id,
            **template(
                "order_confirmation", "en_US", "Hi {{1}}, your order {{2}} is confirmed. Total: {{3}}."
            ),
        },
    ).raise_for_status()

    for name in ("api", "receiver", "worker", "scheduler"):
        processes.append(ServiceProcess([name], env, logs / f"{name}.log").start())
    for name in ("api", "receiver", "worker", "scheduler"):
        wait_http(f"http://127.0.0.1:{ports[name]}/livez", processes=processes)

    api = f"http://127.0.0.1:{ports['api']}"
    auth = {"Authorization": f"Bearer {key}"}
    health = httpx.get(f"{api}/health").json()
    assert health["checks"]["queue"]["backend"] == "sqs"
    assert health["checks"]["database"]["status"] == "healthy"
    # The template registry: the scheduler syncs at start-up; an operator can ask for it at once.
    synced = httpx.post(f"{api}/v1/templates/sync", headers=auth)
    assert synced.status_code == 200 and synced.json()["synced"] == 1, synced.text

    nid = httpx.post(f"{api}/v1/notifications", json=order_request(), headers=auth).json()["id"]
    doc = wait_for_status(api, key, nid, FINAL)
    assert doc["whatsapp_message_id"].startswith("wamid.")
    assert doc["delivered_at"] and doc["read_at"]

    when = datetime.now(UTC) + timedelta(seconds=2)
    scheduled = httpx.post(
        f"{api}/v1/notifications", json=order_request(scheduled_for=when.isoformat()), headers=auth
    ).json()
    assert scheduled["status"] == "scheduled"

    bulk = httpx.post(
        f"{api}/v1/notifications/bulk",
        headers=auth,
        json={"notifications": [order_request(f"+1415555{i:04d}") for i in range(20)]},
    ).json()
    assert bulk["queued"] == 20
    for item in bulk["notifications"]:
        wait_for_status(api, key, item["id"], FINAL)
    assert wait_for_status(api, key, scheduled["id"], FINAL)["sent_at"] >= when.isoformat()[:19]

    worker_metrics = httpx.get(f"http://127.0.0.1:{ports['worker']}/metrics").text
    assert 'wanotify_sends_total{error_class="",recipient_country="US",result="sent"} 22.0' in worker_metrics
    scheduler_metrics = httpx.get(f"http://127.0.0.1:{ports['scheduler']}/metrics").text
    assert "wanotify_scheduled_released_total 1.0" in scheduler_metrics

    # Graceful shutdown: every service exits 0 on SIGTERM (the sandbox, plain uvicorn, re-raises it).
    for p in reversed(processes[1:]):
        assert p.stop() == 0, p.log()[-2000:]
    worker_log = (logs / "worker.log").read_text()
    assert '"message": "worker stopped"' in worker_log
    assert "+14155550123" not in worker_log, "phone numbers must be masked in logs"


@pytest.fixture
def embedded_env() -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "QUEUE_BACKEND"}}
    with server_dir("wanotify-e2e-") as data:
        env.update(
            WA_DATA_DIR=str(data / ".wa-notify"),
            API_PORT=str(free_port()),
            RECEIVER_PORT=str(free_port()),
            SANDBOX_PORT=str(free_port()),
            WORKER_PORT=str(free_port()),
            SCHEDULER_PORT=str(free_port()),
            PYTHONUNBUFFERED="1",
        )
        yield env


def start_up(env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "wanotify.cli.main", "up"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = out.read_text(errors="replace")
        if "Ctrl-C stops everything." in text:
            return process
        if process.poll() is not None:
            raise AssertionError(f"wa-notify up exited:\n{text}")
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"wa-notify up did not become ready:\n{out.read_text(errors='replace')}")


def wait_for_text(path: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = path.read_text(errors="replace")
        if text in seen:
            return seen
        if process.poll() is not None:
            raise AssertionError(f"exited before printing {text!r}:\n{seen}")
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} after {timeout} s:\n{path.read_text(errors='replace')}")


def interrupt(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(60)


def test_embedded_mode_make_run_path(embedded_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "up.txt"
    process = start_up(embedded_env, out)
    try:
        printed = out.read_text()
        key = (Path(embedded_env["WA_DATA_DIR"]) / "dev-api-key").read_text().strip()
        assert key in printed
        curl = next(
            line.strip() for line in printed.splitlines() if line.strip().startswith("curl -s -X POST")
        )
        api = f"http://127.0.0.1:{embedded_env['API_PORT']}"
        # `wa-notify webhooks listen`, as the printed hint says: the demo tenant's events, verified.
        assert "wa-notify webhooks listen" in printed
        heard = tmp_path / "listen.txt"
        with heard.open("wb") as log:
            listener = subprocess.Popen(
                [sys.executable, "-m", "wanotify.cli.main", "webhooks", "listen", "--api-url", api],
                env=embedded_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_text(heard, "listening on", listener)
            result = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30)
            created = json.loads(result.stdout)
            assert created["status"] == "queued", result.stdout
            doc = wait_for_status(api, key, created["id"], FINAL, timeout=30)
            assert doc["metadata"] == ORDER_CONFIRMATION["metadata"]
            text = wait_for_text(heard, "notification.read", listener)
            lines = [line for line in text.splitlines() if created["id"] in line and "[signatures:" in line]
            assert [line.split()[1] for line in lines] == [
                "notification.queued",
                "notification.sent",
                "notification.delivered",
                "notification.read",
            ], text
            assert all("standard ✓ seed ✓" in line for line in lines), text
            assert interrupt(listener) == 0, heard.read_text()
        finally:
            if listener.poll() is None:  # a failed step: leave no listener behind
                listener.kill()
                listener.wait(10)
        hooks = httpx.get(f"{api}/v1/webhooks", headers={"Authorization": f"Bearer {key}"}).json()
        assert hooks["webhooks"] == []  # the listener removed its endpoint on the way out
    finally:
        code = interrupt(process)
    assert code == 0, out.read_text()
    for port in ("API_PORT", "RECEIVER_PORT", "SANDBOX_PORT"):
        assert not port_open("127.0.0.1", int(embedded_env[port])), f"{port} still open after Ctrl-C"
    assert "stopped." in out.read_text()

    # Running it again keeps the data and the key.
    process = start_up(embedded_env, tmp_path / "up2.txt")
    try:
        assert (Path(embedded_env["WA_DATA_DIR"]) / "dev-api-key").read_text().strip() == key
        again = httpx.get(
            f"{api}/v1/notifications/{created['id']}", headers={"Authorization": f"Bearer {key}"}
        )
        assert again.json()["status"] == "read"
    finally:
        assert interrupt(process) == 0
