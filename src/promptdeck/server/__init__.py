"""The HTTP faces: the JSON API, the active-version fast path and the web UI."""

from promptdeck.server.app import create_app

__all__ = ["create_app"]
