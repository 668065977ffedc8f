"""Routes GET /prompts/{ref}/active?label=… (a label other than `active`) past the hot path.

``server/active.py`` caches and serves the `active` label only, and answers every
``…/active`` path whatever its query string; until it serves labels from its cache (issue
13's branch owns it), labelled fetches go to FastAPI's route, which gives the same body,
ETag and 304."""

from __future__ import annotations

from urllib.parse import parse_qs

from promptdeck.domain.labels import ACTIVE
from promptdeck.server.active import ASGIApp, Receive, Scope, Send


class LabelledActive:
    """``app`` is the next layer (the hot path, ``ActiveEndpoint``); ``routes`` the layer
    below it that reaches FastAPI's routes, where labelled fetches go."""

    def __init__(self, app: ASGIApp, routes: ASGIApp) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"label=" in scope.get("query_string", b""):
            query = parse_qs(scope["query_string"].decode("latin-1"))
            if query.get("label", [ACTIVE])[-1] != ACTIVE:
                await self.routes(scope, receive, send)
                return
        await self.app(scope, receive, send)
