"""Schemathesis over the served OpenAPI document: every operation, every check, zero failures.

The API runs as its own ``wa-notify api`` process on the session's PostgreSQL, Redis and sandbox;
schemathesis (its CLI, as a user would run it) generates examples, boundary and negative cases,
random cases and stateful sequences from the links (create → read → cancel). The figures it
reports (operations, cases, failures) are printed, and the test fails on any failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import ServiceProcess, wait_http
from tests.support.world import make_tenant
from wanotify.cli.embedded import free_port
from wanotify.common.crypto import SecretBox

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.contract,
    pytest.mark.xdist_group("fuzz"),
    pytest.mark.timeout(420),
]

MAX_EXAMPLES = os.environ.get("WA_FUZZ_MAX_EXAMPLES", "15")
SEED = os.environ.get("WA_FUZZ_SEED", "20261204")


def run_schemathesis(
    schema_url: str, token: str, report: Path, *extra: str
) -> tuple[int, str, dict[str, object]]:
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            schema_url,
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
            # One worker: hypothesis reads lambdas' source with `ast`, which is not thread-safe on
            # Python 3.11 ("AST constructor recursion depth mismatch" under two workers).
            "--workers",
            "1",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--suppress-health-check",
            "all",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=400,
    )
    report.with_suffix(".txt").write_text(result.stdout + result.stderr)
    data = json.loads(report.read_text()) if report.exists() else {}
    return result.returncode, result.stdout + result.stderr, data


async def test_schemathesis_finds_nothing_in_the_api(
    service_env: dict[str, str], engine: AsyncEngine, box: SecretBox, sandbox_url: str, tmp_path: Path
) -> None:
    tenant = await make_tenant(engine, box, sandbox_url)
    port = free_port()
    api = ServiceProcess(
        ["api"],
        {**service_env, "API_PORT": str(port), "RATE_LIMIT_GLOBAL_PER_SECOND": "0", "LOG_LEVEL": "WARNING"},
        tmp_path / "api.log",
    ).start()
    try:
        wait_http(f"http://127.0.0.1:{port}/livez", processes=[api])
        code, output, report = run_schemathesis(
            f"http://127.0.0.1:{port}/schema/openapi.json", tenant.api_key, tmp_path / "report.json"
        )
    finally:
        api.stop()
    print(output[-6000:])
    assert code == 0, output[-12000:] + "\n--- api log ---\n" + api.log()[-4000:]
    assert report, "schemathesis wrote no report"
