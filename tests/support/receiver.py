"""A real local webhook receiver: an HTTP server in a thread that answers as its ``mode``
says (ok: 200, fail: 500, slow: waits past the sender's timeout, then 200; hang: answers
nothing until ``release()``; redirect: 302 to ``redirect_to``) and keeps every request it
got, with what it answered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int | None  # None: the sender gave up first (slow mode)
    at: float


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Until ``check()`` is true, at most ``timeout`` seconds (the test asserts after)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        time.sleep(0.05)


class Server(ThreadingHTTPServer):
    # socketserver's default backlog (5) drops the SYNs of a burst (a second's retransmit).
    request_queue_size = 128
    daemon_threads = True


class Receiver:
    def __init__(self, mode: str = "ok", slow_s: float = 3.0, redirect_to: str = "") -> None:
        self.mode = mode
        self.slow_s = slow_s
        self.redirect_to = redirect_to
        self.held = threading.Event()  # set: hanging requests go on (and answer 200)
        self.arrived: list[float] = []  # when each request arrived, before any answer
        self.got: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                mode = receiver.mode
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.arrived.append(time.monotonic())
                if mode == "hang":
                    receiver.held.wait()
                    receiver._keep(Received(headers, body, None, time.monotonic()))
                    return
                if mode == "redirect":
                    receiver._keep(Received(headers, body, 302, time.monotonic()))
                    self.send_response(302)
                    self.send_header("Location", receiver.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if mode == "slow":
                    time.sleep(receiver.slow_s)
                    receiver._keep(Received(headers, body, None, time.monotonic()))
                    return  # the sender has given up; nothing it will read
                status = 200 if mode == "ok" else 500
                receiver._keep(Received(headers, body, status, time.monotonic()))
                answer = b"thanks" if status == 200 else b"receiver is down"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _keep(self, r: Received) -> None:
        with self.lock:
            self.got.append(r)

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.got)

    def accepted(self) -> list[Received]:
        return [r for r in self.received() if r.answered == 200]

    def wait_for(self, check: object, timeout: float = 30.0) -> None:
        """Until ``check(self)`` is true (a bound; the test asserts the outcome after)."""
        assert callable(check)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not check(self):
            time.sleep(0.05)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def release(self) -> None:
        """Let hanging requests end (their sender gave up long ago or will now)."""
        self.held.set()

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
