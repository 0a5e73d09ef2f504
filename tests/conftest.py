"""Session-wide real infrastructure: PostgreSQL, Redis, SQS (moto), the sandbox, the receiver."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from litestar.testing import AsyncTestClient
from moto.server import ThreadedMotoServer
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.moto_sqs import atomic_receives
from tests.support.processes import ServiceProcess, wait_http
from tests.support.servers import create_database, drop_database, postgres_admin_url, redis_url
from tests.support.world import TenantFixture, make_tenant
from wanotify.cli.embedded import free_port
from wanotify.common.config import Settings, load_settings
from wanotify.common.crypto import SecretBox, generate_key
from wanotify.common.db.engine import create_engine
from wanotify.common.db.migrate import migrate
from wanotify.common.http import serve

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ENCRYPTION_KEY = generate_key()


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wanotify")


@pytest.fixture(scope="session")
def pg_admin_url(tmp_root: Path) -> Iterator[str]:
    with postgres_admin_url(tmp_root) as url:
        yield url


@pytest.fixture(scope="session")
def redis_server_url(tmp_root: Path) -> Iterator[str]:
    with redis_url(tmp_root) as url:
        yield url


@pytest.fixture(scope="session")
async def database_url(pg_admin_url: str) -> AsyncIterator[str]:
    url = await create_database(pg_admin_url)
    engine = create_engine(url, pool_size=1)
    await migrate(engine)
    await engine.dispose()
    yield url
    await drop_database(pg_admin_url, url)


@pytest.fixture
async def own_database(pg_admin_url: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A migrated database for one test: no other worker in the session takes its queue messages."""
    url = await create_database(pg_admin_url, prefix="wanotify_own")
    engine = create_engine(url, pool_size=5)
    await migrate(engine)
    yield url, engine
    await engine.dispose()
    await drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url, pool_size=10)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def box() -> SecretBox:
    return SecretBox(ENCRYPTION_KEY)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with atomic_receives():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture
def sqs_queue_url(moto_endpoint: str) -> str:
    client = boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=moto_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    name = f"wa-notify-send-{os.urandom(4).hex()}"
    url: str = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    return url


@pytest.fixture(scope="session", autouse=True)
def _aws_env() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")


@pytest.fixture(scope="session")
def receiver_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def sandbox_url(tmp_root: Path, receiver_port: int) -> Iterator[str]:
    """The Meta sandbox as its own process; its status webhooks go to the in-process receiver."""
    port = free_port()
    proc = ServiceProcess(
        ["sandbox"],
        {
            "SANDBOX_PORT": str(port),
            "META_APP_SECRET": APP_SECRET,
            "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{receiver_port}/webhooks/whatsapp",
            "SANDBOX_SENT_DELAY_SECONDS": "0.05",
            "SANDBOX_DELIVERED_DELAY_SECONDS": "0.1",
            "SANDBOX_READ_DELAY_SECONDS": "0.15",
        },
        tmp_root / "logs" / "sandbox.log",
    ).start()
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/_sandbox/health", processes=[proc])
    yield url
    proc.stop()


def make_settings(**env: str) -> Settings:
    return load_settings(env)


@pytest.fixture(scope="session")
def service_env(
    database_url: str, redis_server_url: str, sandbox_url: str, receiver_port: int
) -> dict[str, str]:
    """The environment the session's services run with (in process, or as ``wa-notify`` processes)."""
    return dict(
        DATABASE_URL=database_url,
        REDIS_URL=redis_server_url,
        META_GRAPH_BASE_URL=sandbox_url,
        META_APP_SECRET=APP_SECRET,
        META_VERIFY_TOKEN=VERIFY_TOKEN,
        WA_ENCRYPTION_KEY=ENCRYPTION_KEY,
        RECEIVER_PORT=str(receiver_port),
        QUEUE_VISIBILITY_TIMEOUT_SECONDS="5",
        QUEUE_WAIT_SECONDS="0.2",
        WORKER_PORT="0",
        SCHEDULER_PORT="0",
        OUTBOX_GRACE_SECONDS="0.5",
        BREAKER_COOLDOWN_SECONDS="2",
        # Tests (tests/crash) post thousands per tenant; tests/api/test_ingress_limits.py sets its own.
        RATE_LIMIT_TENANT_PER_MINUTE="1000000",
        RATE_LIMIT_TENANT_PER_HOUR="1000000",
        RATE_LIMIT_TENANT_PER_DAY="1000000",
        # Client webhook sinks run on this machine; the schedule runs in seconds, not a day.
        WEBHOOK_ALLOW_HTTP="true",
        WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
        WEBHOOK_RETRY_SCHEDULE_SECONDS="0,0.2,0.4,0.8",
        WEBHOOK_POLL_SECONDS="0.05",
        WEBHOOK_TIMEOUT_SECONDS="3",
        WEBHOOK_BREAKER_COOLDOWN_SECONDS="1",
    )


@pytest.fixture(scope="session")
def settings(service_env: dict[str, str]) -> Settings:
    return make_settings(**service_env)


@pytest.fixture(scope="session")
async def receiver(settings: Settings) -> AsyncIterator[str]:
    """The webhook receiver served over real HTTP inside the test process."""
    from wanotify.receiver.app import create_app

    stop = asyncio.Event()
    task = asyncio.create_task(serve(create_app(settings), "127.0.0.1", settings.receiver.port, stop))
    url = f"http://127.0.0.1:{settings.receiver.port}"
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                await http.get(f"{url}/livez")
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
    yield url
    stop.set()
    await task


@pytest.fixture(scope="session")
async def api(settings: Settings) -> AsyncIterator[AsyncTestClient[object]]:
    from wanotify.api.app import create_app

    async with AsyncTestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
async def tenant(engine: AsyncEngine, box: SecretBox, sandbox_url: str) -> TenantFixture:
    return await make_tenant(engine, box, sandbox_url)
