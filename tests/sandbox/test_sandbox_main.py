"""The CLI entry path: `run(load_sandbox_settings(os.environ))` in its own process, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.sandbox.harness import SEED, TOKEN, WABA

ENTRY = """
import os
from wanotify.sandbox.main import run
from wanotify.sandbox.settings import load_sandbox_settings
run(load_sandbox_settings(os.environ))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_run_serves_the_seeded_sandbox_and_stops_on_sigterm(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "SANDBOX_PORT": str(port),
        "SANDBOX_WEBHOOK_URL": "",
        "SANDBOX_SEED_FILE": str(seed),
    }
    process = subprocess.Popen([sys.executable, "-c", ENTRY], env=env, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/_sandbox/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "sandbox did not start"
            time.sleep(0.05)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        listed = httpx.get(f"{base}/v25.0/{WABA}/message_templates", headers=auth)
        assert listed.status_code == 200
        assert "hello_world" in {t["name"] for t in listed.json()["data"]}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    # uvicorn shuts down gracefully, then re-raises the signal it caught, so the exit is by SIGTERM.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert b"Traceback" not in stderr, stderr
