"""Revocation and expiry reach what is already open (issue 22): a GET /changes stream and a
long poll of a key that is revoked, or expires, end within a second (server/changes.py
re-checks its caller every STANDING_CHECK_S), on real servers and on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.tx import utcnow
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import CreatePrompt
from tests.access.conftest import bearer
from tests.support.load import figure
from tests.support.server import ServerProcess

GIVE_UP_S = 20.0  # a stream still open this long after the revocation did not end


@dataclass
class Stream:
    """GET /changes read on a thread: its lines, when it is ready, when it ended."""

    url: str
    key: dict[str, str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    ended_at: float | None = None

    def start(self) -> Stream:
        threading.Thread(target=self._read, daemon=True).start()
        assert self.ready.wait(30), "the stream did not start"
        return self

    def _read(self) -> None:
        deadline = time.monotonic() + 60
        with (
            httpx.Client(timeout=GIVE_UP_S) as http,
            http.stream("GET", f"{self.url}/changes", headers=self.key) as response,
        ):
            assert response.status_code == 200
            for line in response.iter_lines():
                self.lines.append(line)
                if line.startswith("event: ready"):
                    self.ready.set()
                if time.monotonic() > deadline:
                    return
        self.ended_at = time.monotonic()

    def wait_end(self) -> float | None:
        deadline = time.monotonic() + GIVE_UP_S
        while self.ended_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.ended_at

    def moves(self) -> int:
        return sum(line == "event: move" for line in self.lines)


def test_a_revoked_keys_stream_and_long_poll_end_at_once_and_hear_nothing_more(
    start_server: Callable[..., ServerProcess], registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("greet", content="one"), Caller.local("setup"))
    access = Access(registry.engine)
    admin = bearer(access.create_key("admin", "admin").secret)
    reader = bearer(access.create_key("reader", "read").secret)
    server = start_server()
    stream = Stream(server.url, reader).start()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        made = http.post(
            "/prompts/greet/versions", json={"content": "two", "activate": True}, headers=admin
        )
        assert made.status_code == 201, made.text
        while stream.moves() < 1:  # the stream is live: it hears the move
            time.sleep(0.02)
        last = http.get("/changes", params={"wait": 0}, headers=reader).json()["last_event_id"]

        polled: dict[str, float | int] = {}

        def long_poll() -> None:
            answer = http.get(
                "/changes", params={"after": last, "wait": 30}, headers=reader, timeout=60
            )
            polled.update(status=answer.status_code, at=time.monotonic())

        poller = threading.Thread(target=long_poll, daemon=True)
        poller.start()
        time.sleep(0.5)  # both are waiting for a move
        revoked_at = time.monotonic()
        assert http.delete("/keys/reader", headers=admin).status_code == 200
        ended = stream.wait_end()
        poller.join(GIVE_UP_S)
        # Nothing more reaches it, and new requests are refused.
        http.post("/prompts/greet/versions/1/rollback", headers=admin)
        assert http.get("/changes", params={"wait": 0}, headers=reader).status_code == 401
    assert ended is not None, "the revoked key's stream stayed open"
    assert polled.get("status") == 401, polled
    assert stream.moves() == 1
    figure(
        "revocation reaches open streams",
        f"stream ended {ended - revoked_at:.2f} s and long poll answered 401 "
        f"{float(polled['at']) - revoked_at:.2f} s after the revocation",
    )


def test_a_stream_of_a_key_that_expires_ends_once_it_has_expired(
    start_server: Callable[..., ServerProcess], registry: Registry
) -> None:
    server = start_server()
    # Made "54 s ago" with a lifetime of a minute: it expires 6 s from now.
    early = Access(registry.engine, clock=lambda: utcnow() - timedelta(seconds=54))
    brief = early.create_key("brief", "read", expires_in="1m")
    stream = Stream(server.url, bearer(brief.secret)).start()
    ended = stream.wait_end()
    assert ended is not None, "the expired key's stream stayed open"
    expires_in = (brief.account.expires_at - utcnow()).total_seconds()  # type: ignore[operator]
    assert expires_in <= 0
    assert (
        httpx.get(f"{server.url}/changes?wait=0", headers=bearer(brief.secret)).status_code == 401
    )
    figure("expiry reaches open streams", "a stream of a key that expired ended by itself")
