"""/docs: Swagger UI served from this package (docs_static/), with the UI's security headers.

FastAPI's default page loads Swagger UI from a CDN: on a closed network it was blank, and
it needed an inline script, which a strict Content-Security-Policy forbids. /openapi.json, the
document it shows, is a route of ours too, so it declares its role like every other.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.responses import HTMLResponse, JSONResponse

from promptdeck.server.respond import SECURITY_HEADERS
from promptdeck.server.roles import Reader

HERE = Path(__file__).parent / "docs_static"
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "init.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>promptdeck API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/init.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def docs(_caller: Reader) -> HTMLResponse:
        return HTMLResponse(PAGE, headers=SECURITY_HEADERS)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_caller: Reader) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs/static/{filename}", include_in_schema=False)
    def docs_static(filename: str, _caller: Reader) -> Response:
        if filename not in FILES:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            (HERE / filename).read_bytes(),
            media_type=FILES[filename],
            headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"},
        )
