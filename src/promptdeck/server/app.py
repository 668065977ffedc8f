"""create_app: the FastAPI application with its routers, problem handlers and fast path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Response

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.evaluating import Evaluations
from promptdeck.core.live import ActiveCache, ChangeFeed
from promptdeck.core.ops import readiness
from promptdeck.core.runs import Runs
from promptdeck.core.setup import open_registry
from promptdeck.core.webhooks import Webhooks
from promptdeck.domain import etag
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.labels import LABEL_MAX, LABEL_OR_BLANK_REGEX
from promptdeck.errors import DatabaseUnavailable
from promptdeck.schemas import ActiveOut, Problem
from promptdeck.secret_key import keyring_of
from promptdeck.server import changes, docs, problems, respond, ui
from promptdeck.server.active import ActiveEndpoint, Entry, Latency, render
from promptdeck.server.api import access as access_api
from promptdeck.server.api import (
    evaluations,
    labels,
    otlp,
    outcomes,
    prompts,
    providers,
    rollouts,
    runs,
    templates,
    test_sets,
    transfer,
    versions,
    webhooks,
)
from promptdeck.server.api.prompts import PromptRef
from promptdeck.server.deps import RegistryDep
from promptdeck.server.evaluations import Runner
from promptdeck.server.head import HeadAsGet
from promptdeck.server.limits_mw import BodyLimit
from promptdeck.server.mcp import McpEndpoint, McpResponse
from promptdeck.server.observe import Observe
from promptdeck.server.roles import Public, Reader
from promptdeck.server.runs import PromptRuns, limit_of
from promptdeck.server.security import Gate, is_loopback
from promptdeck.server.ticker import RolloutTicker
from promptdeck.server.webhooks import Deliverer, destinations
from promptdeck.version import __version__

DESCRIPTION = """\
promptdeck keeps AI prompts as immutable, named versions: create versions, read the history
of what changed and why, and roll the active version back in one call.

Every error is an RFC 9457 `application/problem+json` document. `{prompt_id}` accepts the
prompt's integer id or its name.
"""


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> Any:
    """The ASGI application. The engine is created here, after any worker fork."""
    settings = settings or Settings()
    registry = registry or open_registry(settings)
    # The cache is the process's, shared by every caller: it loads as SYSTEM; each request's
    # caller is checked by the hot path itself (server/active.py).
    cache: ActiveCache[Entry] = ActiveCache(
        settings.database_url,
        lambda ref, label: registry.serving(ref, label, SYSTEM),
        render,
        size_of=lambda e: len(e.body),
        version=lambda ref, version_id: registry.serving_version(ref, version_id, SYSTEM),
    )
    feed = ChangeFeed(registry.engine, settings.database_url)
    closing: list[Gate] = []
    hooks = Webhooks(registry.db, destinations(settings))
    deliverer = Deliverer(hooks, settings)
    keyring = keyring_of(settings)
    evaluating = Evaluations(registry.db, settings.outgoing_allowance(), keyring)
    runner = Runner(evaluating.work, settings, keyring=keyring)
    prompt_runs = PromptRuns(
        Runs(registry.db, limit_of(settings)), settings.outgoing_allowance(), keyring
    )
    ticker = RolloutTicker(registry, settings.rollout_check_s)
    mcp = McpEndpoint(registry, feed)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.webhooks_deliver:
            deliverer.start()
        if settings.evaluations_run:
            runner.start()
        ticker.start()
        async with mcp.running():
            yield
        await ticker.stop()
        await runner.stop()
        await prompt_runs.aclose()
        await deliverer.stop()
        await feed.close()
        await cache.close()
        for gate in closing:
            await gate.close()
        registry.engine.dispose()

    app = FastAPI(
        title="promptdeck",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry hooks run on every request even with no provider.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        # /docs is served from the package (server/docs.py): no CDN, the UI's headers.
        docs_url=None,
        redoc_url=None,
        # /openapi.json too (server/docs.py): a route of ours, declaring its role.
        openapi_url=None,
    )
    app.state.registry = registry
    app.state.settings = settings
    app.state.feed = feed
    app.state.webhooks = hooks
    app.state.evaluations = evaluating
    app.state.runs = prompt_runs
    respond.install(app)
    app.include_router(transfer.router)
    app.include_router(prompts.router)
    app.include_router(versions.router)
    app.include_router(labels.router)
    app.include_router(rollouts.router)
    app.include_router(access_api.router)
    app.include_router(webhooks.router)
    app.include_router(templates.router)
    app.include_router(outcomes.router)
    app.include_router(otlp.router)
    app.include_router(test_sets.router)
    app.include_router(evaluations.router)
    app.include_router(runs.router)
    app.include_router(providers.router)
    app.include_router(changes.router)

    @app.get(
        "/prompts/{prompt_id}/active",
        response_model=ActiveOut,
        tags=["versions"],
        summary="The active version (or ?label=) in full (the hot path; ETag, 304)",
        responses={
            304: {"description": "Not modified: the If-None-Match ETag is still current"},
            **problems.responses(404, 422),
        },
    )
    def get_active(
        prompt_id: PromptRef,
        registry: RegistryDep,
        caller: Reader,
        label: Annotated[
            str | None,
            Query(
                max_length=LABEL_MAX,
                json_schema_extra={"pattern": LABEL_OR_BLANK_REGEX},
                description="The label to fetch (default, or blank: active).",
            ),
        ] = None,
        key: Annotated[
            str | None,
            Query(
                description="The caller's key (a user id…): during the label's rollout it "
                "decides the version (docs/rollouts.md); without it, a random one per request."
            ),
        ] = None,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        # Normally answered by ActiveEndpoint before routing (labels included); this route
        # documents it and answers what the hot path passes on (a label that is not a slug).
        entry = render(*registry.get_assigned(prompt_id, label, key, caller))
        headers = {"ETag": entry.etag, "Cache-Control": "no-cache"}
        if if_none_match is not None and etag.matches(if_none_match, headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return Response(entry.body, media_type="application/json", headers=headers)

    @app.api_route("/mcp", methods=["GET", "POST", "DELETE"], include_in_schema=False)
    async def mcp_transport(caller: Reader) -> Response:
        # MCP's streamable HTTP transport (docs/mcp.md): the read role to come in; each
        # MCP request then acts as this caller (server/mcp.py: its tools by role).
        return McpResponse(mcp, caller)

    @app.get("/healthz", tags=["meta"], summary="Liveness and database reachability")
    def healthz(registry: RegistryDep, _caller: Public) -> dict[str, str]:
        registry.ping()
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["meta"],
        summary="Ready for traffic: the database answers and its schema is at the newest migration",
        responses=problems.responses(503),
    )
    def readyz(registry: RegistryDep, _caller: Public) -> dict[str, str]:
        ready = readiness(registry.engine)
        if not ready.at_head:
            raise DatabaseUnavailable(
                f"the database schema is at {ready.current}, this server needs {ready.head}; "
                "run promptdeck db upgrade"
            )
        return {"status": "ready", "schema": ready.head or ""}

    @app.get(
        "/metrics",
        tags=["meta"],
        summary="Prometheus metrics of this process (text exposition format)",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def metrics(_caller: Reader) -> Response:
        # Normally answered by Observe before routing; this route documents it.
        return Response(b"", media_type="text/plain")

    ui.install(app)
    docs.install(app)
    app.openapi_schema = None
    _add_problem_schema(app)
    access = Access(registry.engine, clock=registry.clock)
    app.state.access = access
    # Inside out: the routes; HEAD as GET; the body limit; metrics and request ids; the hot
    # path (it counts its own metrics); outermost the gate (Host, cross-site, keys), so the
    # hot path is authorised like every route.
    latency = Latency()
    observed = Observe(
        BodyLimit(HeadAsGet(app), settings.max_body_bytes), registry.engine, cache, feed, latency
    )
    # ActiveEndpoint answers …/active and …/active?label=… from the cache; a label that is
    # not a slug goes on to FastAPI's route (its 422).
    gate = Gate(
        ActiveEndpoint(
            observed, cache, latency, registry.get_prompt, request_ids=settings.access_log
        ),
        access,
        database_url=settings.database_url,
        allowed_hosts=settings.host_list(),
        cors_origins=settings.origin_list(),
        open_allowed=settings.insecure or is_loopback(settings.host),
        max_body_bytes=settings.max_body_bytes,
        clock=registry.clock,
        shared=cache.reads,  # PostgreSQL: the access check and the pointer in one read
    )
    closing.append(gate)
    if not settings.origin_list():
        return gate
    from starlette.middleware.cors import CORSMiddleware

    return CORSMiddleware(
        gate,
        allow_origins=settings.origin_list(),
        allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "Last-Event-ID",
        ],
        expose_headers=["ETag", "Location", "Idempotent-Replayed", "Promptdeck-Rollout"],
        max_age=600,
    )


ACCESS_RESPONSES = {
    "401": "No key, or a key that is unknown, revoked or expired",
    "403": "The key's role does not allow this, or a write from another site",
}


def _add_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema()
        problem = {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        # Keys: "Authorize" in /docs. Every route but /healthz may answer 401 and 403.
        schema["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API key, pdk_…"}
        }
        schema["security"] = [{"bearer": []}]
        # Every error is problem+json, FastAPI's default 422 included.
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if path in ("/healthz", "/readyz"):  # load balancers probe without a key
                    operation["security"] = []
                else:
                    for code, description in ACCESS_RESPONSES.items():
                        operation["responses"].setdefault(code, {"description": description})
                for code, response in operation.get("responses", {}).items():
                    if code.startswith(("4", "5")):
                        response["content"] = problem
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
