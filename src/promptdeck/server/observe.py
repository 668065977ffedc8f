"""The outermost ASGI layer: a request id for every request (logs and the X-Request-ID
response header) and Prometheus metrics, served at GET /metrics.

Metrics are per process (prometheus_client's default mode): scrape every process, or run
one process per port/container. ``--workers N`` shares one port between N processes, so a
scrape sees one of them at a time; see docs/deployment.md.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from promptdeck.core.live import ActiveCache, ChangeFeed
from promptdeck.server.active import PREFIX, SUFFIX, ASGIApp, Receive, Scope, Send
from promptdeck.server.logs import request_id

HOT_ROUTE = "/prompts/{prompt_id}/active"
# Hot-path latencies are sub-millisecond: buckets from 100 µs.
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
CREATE_ROUTES = {"/prompts", "/prompts/{prompt_id}/versions", "/ui/new"}
ROLLBACK_ROUTES = {
    "/prompts/{prompt_id}/versions/{version_id}/rollback",
    "/ui/prompts/{name}/versions/{version_id}/rollback",
}


class _Live(Collector):
    def __init__(self, engine: Engine, cache: ActiveCache[Any], feed: ChangeFeed) -> None:
        self.engine, self.cache, self.feed = engine, cache, feed

    def collect(self) -> Iterator[Metric]:
        hits = CounterMetricFamily(
            "promptdeck_active_cache", "Hot-path lookups by result", labels=["result"]
        )
        hits.add_metric(["hit"], self.cache.hits)
        hits.add_metric(["miss"], self.cache.misses)
        yield hits
        yield CounterMetricFamily(
            "promptdeck_active_pointer_checks",
            "Statements the hot path ran to check pointers (shared by the requests waiting)",
            value=self.cache.statements,
        )
        yield GaugeMetricFamily(
            "promptdeck_change_subscribers",
            "Open GET /changes streams",
            value=self.feed.subscribers,
        )
        pool = self.engine.pool
        in_use = pool.checkedout() if isinstance(pool, QueuePool) else 0
        yield GaugeMetricFamily(
            "promptdeck_db_pool_in_use", "Database connections checked out", value=in_use
        )


class Observe:
    """Request ids and metrics around the whole app (the hot path included)."""

    def __init__(
        self, app: ASGIApp, engine: Engine, cache: ActiveCache[Any], feed: ChangeFeed
    ) -> None:
        self.app = app
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "promptdeck_request_duration_seconds",
            "Request latency by route",
            ["route", "method", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.versions_created = Counter(
            "promptdeck_versions_created", "Versions created (API and UI)", registry=self.registry
        )
        self.rollbacks = Counter(
            "promptdeck_rollbacks", "Rollbacks (API and UI)", registry=self.registry
        )
        self.registry.register(_Live(engine, cache, feed))
        self._children: dict[tuple[str, str, int], Any] = {}
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}-"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/metrics" and scope["method"] == "GET":
            await self._metrics(send)
            return
        rid = _header(scope, b"x-request-id") or f"{self._prefix}{next(self._ids):x}"
        token = request_id.set(rid)
        status = 500
        rid_header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            request_id.reset(token)
            self._observe(scope, status, elapsed)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        if path.startswith(PREFIX) and path.endswith(SUFFIX) and "route" not in scope:
            route = HOT_ROUTE
        else:
            found = scope.get("route")
            route = getattr(found, "path", None) or "unmatched"
            if method == "POST" and status in (200, 201, 303):
                if route in CREATE_ROUTES and status != 200:
                    self.versions_created.inc()
                elif route in ROLLBACK_ROUTES:
                    self.rollbacks.inc()
        key = (route, method, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.latency.labels(route, method, str(status))
        child.observe(elapsed)

    async def _metrics(self, send: Send) -> None:
        body = generate_latest(self.registry)
        headers = [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text = bytes(value).decode("latin-1")
            return text[:128] if text.isprintable() else None
    return None
