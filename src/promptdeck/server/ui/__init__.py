"""The web UI: server-rendered pages under /ui/, over the same Registry as the API.

Pages mirror the API's paths (``/ui/prompts/{name}/versions/{version_id}``…) so they can be
shared. Everything they need ships in this package: templates/ and static/.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from promptdeck.server.html import HERE, render
from promptdeck.server.roles import Public, Reader
from promptdeck.server.ui import (
    actions,
    evaluations,
    gates,
    impact,
    labels,
    pages,
    playground,
    providers,
    rollouts,
    session,
    templating,
    test_sets,
    webhooks,
)
from promptdeck.server.ui.view import UIRoute

STATIC = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

tail = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)


@tail.get("/static/{filename}")
def static(filename: str, _caller: Public) -> Response:
    if filename not in STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        (HERE / "static" / filename).read_bytes(),
        media_type=STATIC[filename],
        headers={"Cache-Control": "public, max-age=3600"},
    )


@tail.get("/{rest:path}", response_class=HTMLResponse)
def not_found(request: Request, _caller: Reader, rest: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        404,
        title="Page not found",
        message=f"There is no page at {request.url.path}.",
    )


def install(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def root(_caller: Public) -> RedirectResponse:
        return RedirectResponse("/ui/")

    @app.get("/ui", include_in_schema=False)
    def ui_root(_caller: Public) -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.include_router(session.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(labels.router)
    app.include_router(rollouts.router)
    app.include_router(impact.router)
    app.include_router(templating.router)
    app.include_router(playground.router)
    app.include_router(webhooks.router)
    app.include_router(test_sets.router)
    app.include_router(evaluations.router)
    app.include_router(gates.router)
    app.include_router(providers.router)
    app.include_router(tail)
