"""The web UI (server-rendered pages under /ui/). Placeholder until the UI lands."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse


def install(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @app.get("/ui/", include_in_schema=False, response_class=HTMLResponse)
    def home() -> str:
        return "<!doctype html><title>promptdeck</title><p>promptdeck</p>"
