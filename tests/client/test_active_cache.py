"""get_active, the hot path: cache, 304 revalidation, stale-if-error, fallback, single flight."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from promptdeck import errors
from promptdeck.client import Client
from tests.support.clock import FakeClock
from tests.support.server import ServerProcess, free_port


class Recorder:
    """httpx hooks that see what really went over the wire."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def hooks(self) -> dict[str, list[Callable[..., None]]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request: httpx.Request) -> None:
        with self.lock:
            self.requests.append(request.url.path)

    def on_response(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses.append(response.status_code)


def make(url: str, rec: Recorder, **kw: object) -> Client:
    kw.setdefault("retries", 1)
    kw.setdefault("backoff", 0.01)
    return Client(url, event_hooks=rec.hooks(), **kw)  # type: ignore[arg-type]


def test_get_active_within_the_ttl_is_served_from_the_cache_without_a_request(
    shared_server: ServerProcess, name: str
) -> None:
    rec = Recorder()
    with make(shared_server.url, rec, cache_ttl=60) as client:
        client.create_prompt(name, "hello")
        rec.requests.clear()
        first = client.get_active(name)
        copies = [client.get_active(name) for _ in range(50)]
    assert first.source == "server" and first.content == "hello"
    assert {c.source for c in copies} == {"cache"}
    assert rec.requests == [f"/prompts/{name}/active"]
    assert client.stats.hits == 50 and client.stats.fetched == 1


def test_an_expired_entry_is_revalidated_and_the_server_answers_304_without_a_body(
    shared_server: ServerProcess, name: str
) -> None:
    rec, clock = Recorder(), FakeClock()
    with make(shared_server.url, rec, cache_ttl=10, clock=clock) as client:
        client.create_prompt(name, "hello")
        rec.statuses.clear()
        client.get_active(name)
        clock.advance(10)
        again = client.get_active(name)
        clock.advance(9.9)
        assert client.get_active(name).source == "cache"  # the 304 renewed the TTL
    assert rec.statuses == [200, 304]
    assert again.source == "revalidated" and again.content == "hello"
    assert client.stats.revalidated == 1


def test_revalidation_sends_back_the_etag_header_the_server_gave(
    shared_server: ServerProcess, name: str
) -> None:
    sent: list[str | None] = []
    given: list[str | None] = []
    hooks: dict[str, list[Callable[..., None]]] = {
        "request": [lambda request: sent.append(request.headers.get("if-none-match"))],
        "response": [lambda response: given.append(response.headers.get("etag"))],
    }
    clock = FakeClock()
    with Client(shared_server.url, cache_ttl=10, clock=clock, event_hooks=hooks) as client:
        client.create_prompt(name, "hello")
        sent.clear()
        given.clear()
        client.get_active(name)
        clock.advance(10)
        client.get_active(name)
    assert given[0] and sent == [None, given[0]]
    assert client.cache.etag(name) == given[0]


def test_a_rollback_on_the_server_is_seen_once_the_ttl_has_passed(
    shared_server: ServerProcess, name: str
) -> None:
    clock = FakeClock()
    with Client(shared_server.url, cache_ttl=10, clock=clock) as client:
        client.create_prompt(name, "one", version_name="v1")
        client.create_version(name, "two", activate=True)
        assert client.get_active(name).content == "two"
        client.rollback(name, "v1")
        clock.advance(9.9)
        before = client.get_active(name)
        clock.advance(0.1)
        now = client.get_active(name)
    assert (before.content, before.source) == ("two", "cache")
    assert (now.content, now.version_name, now.source) == ("one", "v1", "server")


def test_the_last_good_copy_is_served_with_a_warning_after_the_server_stops(
    start_server: Callable[..., ServerProcess], caplog: pytest.LogCaptureFixture
) -> None:
    server = start_server()
    rec, clock = Recorder(), FakeClock()
    with make(server.url, rec, cache_ttl=10, retry_after=30, clock=clock) as client:
        client.create_prompt("support-reply", "be kind")
        client.get_active("support-reply")
        server.stop()
        clock.advance(10)
        with caplog.at_level(logging.WARNING, logger="promptdeck.client"):
            stale = client.get_active("support-reply")
        sent = len(rec.requests)
        clock.advance(29)
        after = client.get_active("support-reply")  # within retry_after: no new attempt
    assert (stale.source, stale.content) == ("stale", "be kind")
    assert "last good copy" in caplog.text
    assert after.content == "be kind" and len(rec.requests) == sent
    assert client.stats.stale == 1


def test_a_cold_start_with_no_server_serves_the_fallback_and_without_one_raises() -> None:
    rec, clock = Recorder(), FakeClock()
    with make(f"http://127.0.0.1:{free_port()}", rec, retry_after=30, clock=clock) as client:
        got = client.get_active("support-reply", fallback="You are helpful.")
        tries = len(rec.requests)
        clock.advance(29)
        again = client.get_active("support-reply", fallback="You are helpful.")
        assert len(rec.requests) == tries  # the server was just found down: no new attempt
        clock.advance(1)
        client.get_active("support-reply", fallback="You are helpful.")
        assert len(rec.requests) == 2 * tries  # retry_after has passed: it asks again
        with pytest.raises(errors.ConnectionFailed):
            client.get_active("other-prompt")
    assert (got.source, got.content, got.prompt_name) == (
        "fallback",
        "You are helpful.",
        "support-reply",
    )
    assert again.source == "fallback" and tries == 2  # one try and one retry


def test_a_deleted_prompt_raises_prompt_not_found_even_with_a_fallback(
    shared_server: ServerProcess, name: str
) -> None:
    clock = FakeClock()
    with Client(shared_server.url, cache_ttl=10, clock=clock) as client:
        client.create_prompt(name, "x")
        client.get_active(name)
        Client(shared_server.url).delete_prompt(name)
        clock.advance(10)
        with pytest.raises(errors.PromptNotFound) as caught:
            client.get_active(name, fallback="y")
    assert caught.value.status == 404


def test_many_threads_missing_at_once_send_one_request(
    shared_server: ServerProcess, name: str
) -> None:
    rec = Recorder()
    with make(shared_server.url, rec, cache_ttl=60) as client:
        client.create_prompt(name, "hello")
        rec.requests.clear()
        barrier = threading.Barrier(16)
        results: list[str] = []

        def worker() -> None:
            barrier.wait()
            results.append(client.get_active(name).content)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == ["hello"] * 16
    assert rec.requests == [f"/prompts/{name}/active"]


def test_a_hung_server_costs_one_bounded_wait_then_the_stale_copy_is_served(
    start_server: Callable[..., ServerProcess],
) -> None:
    server, clock = start_server(), FakeClock()
    assert server.proc is not None
    with make(
        server.url, Recorder(), cache_ttl=10, active_timeout=0.3, retry_after=30, clock=clock
    ) as client:
        client.create_prompt("support-reply", "be kind")
        client.get_active("support-reply")
        clock.advance(10)
        os.killpg(server.proc.pid, signal.SIGSTOP)  # the server hangs: accepts, never answers
        try:
            started = time.monotonic()
            stale = client.get_active("support-reply")
            waited = time.monotonic() - started
            quick = time.monotonic()
            for _ in range(100):
                client.get_active("support-reply")
            later = time.monotonic() - quick
        finally:
            os.killpg(server.proc.pid, signal.SIGCONT)
    assert (stale.source, stale.content) == ("stale", "be kind")
    assert waited < 2.0  # two tries of 0.3 s and a short backoff, not the 5 s default
    assert later < 0.5


@pytest.mark.postgresql_only
def test_server_errors_are_retried_then_the_stale_copy_is_served(
    start_server: Callable[..., ServerProcess], database_url: str
) -> None:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from tests.support.databases import PG_ADMIN_URL

    server, rec, clock = start_server(), Recorder(), FakeClock()
    with make(server.url, rec, cache_ttl=10, retries=2, clock=clock) as client:
        client.create_prompt("support-reply", "be kind")
        client.get_active("support-reply")
        # The database goes away under the running server: it answers 503 problems.
        admin = sa.create_engine(str(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = make_url(database_url).database
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()
        clock.advance(10)
        rec.statuses.clear()
        stale = client.get_active("support-reply")
    assert stale.source == "stale" and stale.content == "be kind"
    assert rec.statuses == [503, 503, 503]  # one try and two retries, 5xx only
