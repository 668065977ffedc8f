"""Refuse request bodies over the configured size with 413, before they are read whole.

The API answers with a problem document; the UI's forms (paths under ``/ui/``) get a readable
page instead, which tells people their text is still in the form they came from.
"""

from __future__ import annotations

from promptdeck import errors
from promptdeck.server.respond import (
    ASGIApp,
    Headers,
    Message,
    Receive,
    Scope,
    Send,
    page_parts,
    problem_parts,
    send_response,
    wants_html,
)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, scope: Scope) -> tuple[Headers, bytes]:
        path = str(scope.get("path", ""))
        if wants_html(path):
            _, headers, page = page_parts(
                413,
                "Too large to save",
                f"What you sent is larger than {self.max_bytes:,} bytes, the most this server "
                "accepts (its setting PROMPTDECK_MAX_BODY_BYTES). Nothing was saved. Go back "
                "with your browser: your text is still in the form.",
                path,
                self.max_bytes,
            )
            return headers, page
        _, headers, body = problem_parts(
            errors.PayloadTooLarge(
                f"the request body is larger than {self.max_bytes} bytes "
                "(setting PROMPTDECK_MAX_BODY_BYTES)"
            ),
            path,
        )
        return headers, body

    async def _refuse(self, scope: Scope, send: Send) -> None:
        headers, body = self._too_large(scope)
        await send_response(send, 413, [*headers, (b"connection", b"close")], body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None or b"transfer-encoding" not in headers:
            # No body, or a declared length that the HTTP parser enforces.
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, send)
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read up to the limit first, then replay.
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)
