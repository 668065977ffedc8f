"""Run `promptdeck serve` as a real process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROMPTDECK = str(Path(sys.executable).with_name("promptdeck"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A server process; ``url`` is its base URL. Stop it with ``stop()`` or ``kill()``."""

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 1,
        port: int | None = None,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    # A bound on start-up, not a speed check: a loaded 2-core machine (two test passes side by
    # side, two worker processes each importing) imports the server (FastAPI,
    # SciPy, the MCP SDK) in 10-15 s, and some tests start several at once.
    def start(self, timeout: float = 180.0) -> ServerProcess:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                PROMPTDECK,
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            stdout=log,
            stderr=log,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path else ""
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}; log {self.log_path}:\n{tail}"
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
