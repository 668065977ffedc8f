"""create_app: the FastAPI application with its routers, problem handlers and fast path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Response

from promptdeck import __version__
from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.setup import is_sqlite, open_registry
from promptdeck.domain import etag
from promptdeck.schemas import ActiveOut, Problem
from promptdeck.server import problems, ui
from promptdeck.server.active import ActiveEndpoint, SQLiteChangeProbe, render
from promptdeck.server.api import labels, prompts, transfer, versions
from promptdeck.server.api.prompts import PromptRef
from promptdeck.server.deps import RegistryDep
from promptdeck.server.labelled import LabelledActive
from promptdeck.server.limits_mw import BodyLimit

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
    probe = SQLiteChangeProbe(settings.database_url) if is_sqlite(settings.database_url) else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if probe is not None:
            probe.close()
        registry.engine.dispose()

    app = FastAPI(
        title="promptdeck",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry hooks run on every request even with no provider.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.registry = registry
    app.state.settings = settings
    problems.install(app)
    app.include_router(transfer.router)
    app.include_router(prompts.router)
    app.include_router(versions.router)
    app.include_router(labels.router)

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
        label: Annotated[
            str | None,
            Query(max_length=64, description="The label to fetch (default: active)."),
        ] = None,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        # The active label is answered by ActiveEndpoint before routing; other labels here.
        entry = render(*registry.get_active(prompt_id, label))
        headers = {"ETag": entry.etag.decode(), "Cache-Control": "no-cache"}
        if if_none_match is not None and etag.matches(if_none_match, headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return Response(entry.body, media_type="application/json", headers=headers)

    @app.get("/healthz", tags=["meta"], summary="Liveness and database reachability")
    def healthz(registry: RegistryDep) -> dict[str, str]:
        registry.ping()
        return {"status": "ok"}

    ui.install(app)
    app.openapi_schema = None
    _add_problem_schema(app)
    inner = BodyLimit(app, settings.max_body_bytes)
    return LabelledActive(ActiveEndpoint(inner, registry, probe), inner)


def _add_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema()
        problem = {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        # Every error is problem+json, FastAPI's default 422 included.
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    if code.startswith(("4", "5")):
                        response["content"] = problem
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
