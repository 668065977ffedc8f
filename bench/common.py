"""Shared helpers for the benchmarks: free ports, servers, wrk."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def start(
    cmd: list[str], ready_url: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    wait_ready(ready_url, proc)
    return proc


def serve_promptdeck(database_url: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`promptdeck serve` on a free port, ready; returns the process and its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "promptdeck"), "serve", "--port", str(port), "--workers", str(workers)]
    cmd += ["--database-url", database_url, "--log-level", "warning"]
    return start(cmd, url + "/healthz"), url


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int

    def row(self) -> str:
        return f"{self.rps:,.0f} | {self.p50_ms:.2f} | {self.p99_ms:.2f}"


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    number, unit = float(m.group(1)), m.group(2)
    return number / 1000 if unit == "us" else number * 1000 if unit == "s" else number


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int = 64,
    headers: list[str] | None = None,
    script: str | None = None,
) -> WrkResult:
    """``script``: a wrk Lua script's path (e.g. a request per key, bench/rollouts.py)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    extra: list[str] = []
    for h in headers or []:
        extra += ["-H", h]
    if script is not None:
        extra += ["-s", script]
    subprocess.run(
        ["wrk", "-t1", f"-c{connections}", "-d2s", *extra, url], capture_output=True, check=True
    )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # the latency distribution's lines, not "75.50%" in the thread stats
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return WrkResult(rps, p50, p99, int(m.group(1)) if m else 0)
