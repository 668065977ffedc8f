"""Refuse request bodies over the configured size with 413, before they are read whole."""

from __future__ import annotations

from promptdeck.server.active import ASGIApp, Message, Receive, Scope, Send, _send
from promptdeck.server.problems import MEDIA_TYPE, problem_body


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, scope: Scope) -> bytes:
        return problem_body(
            413,
            "payload-too-large",
            "Payload too large",
            f"the request body is larger than {self.max_bytes} bytes "
            "(setting PROMPTDECK_MAX_BODY_BYTES)",
            instance=scope.get("path"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None or b"transfer-encoding" not in headers:
            # No body, or a declared length that the HTTP parser enforces.
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                await _send(
                    send,
                    413,
                    [(b"content-type", MEDIA_TYPE.encode()), (b"connection", b"close")],
                    self._too_large(scope),
                )
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
                await _send(
                    send,
                    413,
                    [(b"content-type", MEDIA_TYPE.encode()), (b"connection", b"close")],
                    self._too_large(scope),
                )
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)
