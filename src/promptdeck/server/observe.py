"""Request ids (logs and the X-Request-ID response header) and Prometheus metrics for every
route but the hot path (ActiveEndpoint counts its own, more cheaply), and GET /metrics.

Metrics are per process (prometheus_client's default mode): scrape every process, or run
one process per port/container. ``--workers N`` shares one port between N processes, so a
scrape sees one of them at a time; see docs/deployment.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from promptdeck.core.live import ActiveCache, ChangeFeed
from promptdeck.errors import PromptdeckError
from promptdeck.server.active import BUCKETS, Latency
from promptdeck.server.logs import request_id, request_id_of
from promptdeck.server.respond import ASGIApp, Receive, Scope, Send
from promptdeck.server.roles import READ

LATENCY = "promptdeck_request_duration_seconds"
CREATE_ROUTES = {"/prompts", "/prompts/{prompt_id}/versions", "/ui/new"}
ROLLBACK_ROUTES = {
    "/prompts/{prompt_id}/versions/{version_id}/rollback",
    "/ui/prompts/{name}/versions/{version_id}/rollback",
}


class _Live(Collector):
    def __init__(
        self, engine: Engine, cache: ActiveCache[Any], feed: ChangeFeed, latency: Latency
    ) -> None:
        self.engine, self.cache, self.feed, self.hot = engine, cache, feed, latency

    def collect(self) -> Iterator[Metric]:
        latency = HistogramMetricFamily(
            LATENCY, "Request latency by route", labels=["route", "method", "status"]
        )
        for (route, method, status), counts in list(self.hot.counts.items()):
            cumulative, buckets = 0, []
            for bound, count in zip([*map(str, BUCKETS), "+Inf"], counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            key = (route, method, status)
            latency.add_metric([route, method, str(status)], buckets, self.hot.sums[key])
        yield latency
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
        self,
        app: ASGIApp,
        engine: Engine,
        cache: ActiveCache[Any],
        feed: ChangeFeed,
        latency: Latency,
    ) -> None:
        self.app = app
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = latency
        self.versions_created = Counter(
            "promptdeck_versions_created", "Versions created (API and UI)", registry=self.registry
        )
        self.rollbacks = Counter(
            "promptdeck_rollbacks", "Rollbacks (API and UI)", registry=self.registry
        )
        self.otlp_spans = Counter(
            "promptdeck_otlp_spans",
            "Spans of OTLP exports (POST /v1/traces) by fate: outcome, unnamed (dropped), rejected",
            ["fate"],
            registry=self.registry,
        )
        self.registry.register(_Live(engine, cache, feed, latency))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/metrics" and scope["method"] == "GET" and self._may_read(scope):
            await self._metrics(send)
            return
        rid = request_id_of(scope)
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

    @staticmethod
    def _may_read(scope: Scope) -> bool:
        """What GET /metrics needs (its route in app.py declares ``Reader``). Refused, the
        request goes on to that route, which answers the refusal."""
        try:
            READ.caller(scope)
        except PromptdeckError:
            return False
        return True

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        method: str = scope["method"]
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        if method == "POST" and status in (200, 201, 303):
            if route in CREATE_ROUTES and status != 200:
                self.versions_created.inc()
            elif route in ROLLBACK_ROUTES:
                self.rollbacks.inc()
        spans = (scope.get("state") or {}).get("otlp_spans")
        if spans:
            for fate, count in spans.items():
                self.otlp_spans.labels(fate).inc(count)
        self.latency.observe(route, method, status, elapsed)

    async def _metrics(self, send: Send) -> None:
        body = generate_latest(self.registry)
        headers = [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
