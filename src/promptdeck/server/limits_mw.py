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
        for key, value in scope["headers"]:
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    body = self._too_large(scope)
                    await _send(
                        send,
                        413,
                        [(b"content-type", MEDIA_TYPE.encode()), (b"connection", b"close")],
                        body,
                    )
                    return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send(
                    send, 413, [(b"content-type", MEDIA_TYPE.encode())], self._too_large(scope)
                )


class _TooLarge(Exception):
    pass
