"""The ceiling: a pure ASGI app answering a constant JSON body shaped like an active version."""

from __future__ import annotations

from typing import Any

BODY = (
    b'{"prompt_id":1,"prompt_name":"support-reply","version_id":1,"number":1,'
    b'"version_name":"2026-11-24T09:30:15.123Z","description":"","content":"You are a helpful '
    b'support agent. Answer {{customer}} briefly.","model_config":{"model":"gpt-4o"},'
    b'"content_hash":"sha256:826a442a96cbf398a18769b7ec7afb091ffecf67d4cb1802fed258dfcf595276",'
    b'"created_at":"2026-11-24T09:30:15.123456Z","created_by":"anonymous"}'
)
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"etag", b'"a1"'),
    (b"cache-control", b"no-cache"),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
