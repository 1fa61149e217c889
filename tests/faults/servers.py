"""Real processes for the fault tests: gunicorn serving a test's database, and a throwaway PostgreSQL cluster that
a test may stop and restart (never the suite's server nor the shared one)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# What a test's app is built with (tests/conftest.py build_app) and the gunicorn app must share.
SHARED = (
    "MARKET_ENV", "TESTING", "SECRET_KEY", "INSTANCE_DIR", "UPLOAD_DIR", "SEARCH_INDEX_DIR", "SQLALCHEMY_DATABASE_URI",
    "WTF_CSRF_ENABLED", "RATELIMIT_ENABLED", "PASSWORD_HASH_METHOD", "MARKET_REVIEW_ANNOUNCEMENTS",
    "MARKET_FISCAL_THRESHOLD_FEN", "MARKET_CONTRACT_STEP", "MARKET_CLOSE_GRACE_SECONDS", "DB_LOCK_TIMEOUT_MS",
)  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -w N` on loopback serving `app`'s settings (its database, its folders), with the market's gunicorn
    settings (marketplace/serving.py) and worker kind (one thread: the sync worker) as `make serve` has them."""

    def __init__(self, app, workers: int = 1, threads: int = 1, **settings) -> None:
        config = {k: app.config[k] for k in SHARED if k in app.config} | settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="mp-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "python:marketplace.serving", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{self.port}",
             "--graceful-timeout", "2", "tests.faults.fault_wsgi:app"],
            cwd=ROOT, env=os.environ | {"FAULT_APP_SETTINGS": json.dumps(config)},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.wait_up()

    def wait_up(self, seconds: float = 60) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer: {self.output()}")

    def workers(self) -> list[int]:
        """The worker processes' ids (the master's children)."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


class ThrowawayPostgres:
    """A PostgreSQL cluster of the test's own on a free loopback port (initdb ~1 s): restart it at will."""

    def __init__(self) -> None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not versions or os.geteuid() != 0 or shutil.which("runuser") is None:
            raise RuntimeError("needs PostgreSQL's binaries and root (runuser)")
        self.bin = versions[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="mp-fault-pg-"))
        shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self._as_postgres("initdb", "-D", f"{self.dir}/data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                          "--locale=C.UTF-8")  # fmt: skip
        self.start()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            "pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Stop (terminating every session at once, as a crash or an operator would) and start again."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
