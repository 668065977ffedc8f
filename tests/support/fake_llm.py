"""A stand-in OpenAI-compatible server: a real HTTP server (a thread, a free loopback port)
that answers ``POST /v1/chat/completions``, whole or streamed as Server-Sent Events, as its
scripts say, and keeps every request it got.

A script is a list of ``Answer``s for the requests of one model, or of the requests whose
messages hold a marker (the marker wins); each request takes the next answer, the last one
repeats. With no script the server echoes the prompt. An answer can be fixed text, the
prompt echoed, a tool call, JSON output, a wait, streamed pieces, an error status (429
with ``Retry-After``, 500...), a redirect, a hang, malformed JSON, chosen token counts."""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any

import httpcore

from promptdeck.domain.outgoing import Address

UNSET: Any = object()


@dataclass(frozen=True)
class Answer:
    text: str | None = None  # fixed text (default: the prompt echoed)
    json_output: Any = UNSET  # output = json.dumps(this)
    tool_calls: tuple[tuple[str, Any], ...] = ()  # (name, arguments) each
    latency_ms: int = 0  # before the answer (a stream's first piece)
    pieces: tuple[str, ...] | None = None  # a stream's pieces (default: the words)
    piece_ms: int = 0  # between two pieces of a stream
    status: int = 200
    retry_after: str | None = None
    location: str | None = None  # a redirect's target
    message: str = "scripted failure"  # an error answer's message
    hang: bool = False  # never answer (until the client leaves)
    malformed: bool = False  # a body (or a stream event) that is not JSON
    usage: Any = UNSET  # None: report no usage; UNSET: count words
    finish_reason: str | None = None


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    at: float
    pieces_sent: int = 0
    cut: bool = False  # the client left before the answer was whole

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None


def _words(messages: Any) -> int:
    if not isinstance(messages, list):
        return 0
    return sum(len(str(m.get("content") or "").split()) for m in messages if isinstance(m, dict))


def _prompt(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return str((users or messages or [{}])[-1].get("content") or "")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that left (closed its keep-alive connection, cancelled) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeLLM:
    """Start it with ``with FakeLLM() as llm:``; ``llm.url`` is its base URL (…/v1)."""

    def __init__(self, models: tuple[str, ...] = ("m",)) -> None:
        self.models = models
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.by_model: dict[str, list[Answer]] = {}
        self.by_marker: dict[str, list[Answer]] = {}
        self.taken: dict[str, int] = {}
        self.got: list[Received] = []
        self.in_flight = 0  # chat requests being answered now
        self.most_in_flight = 0  # the most at once since the start
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    data = {"object": "list", "data": [{"id": m} for m in fake.models]}
                    self._json(200, data)
                else:
                    self._json(404, {"error": {"message": "no such path"}})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                headers = {k.lower(): v for k, v in self.headers.items()}
                got = Received(self.path, headers, body, time.monotonic())
                with fake.lock:
                    fake.got.append(got)
                path = self.path.split("?", 1)[0]
                if not path.endswith("/chat/completions") or not isinstance(body, dict):
                    self._json(400, {"error": {"message": "not a chat completion request"}})
                    return
                with fake.lock:
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                try:
                    fake._answer(self, got, body)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

            def _json(self, status: int, data: Any, extra: dict[str, str] | None = None) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.handler = Handler
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- scripting and records ------------------------------------------------------------

    def script(self, *answers: Answer, model: str | None = None, marker: str | None = None) -> None:
        with self.lock:
            if marker is not None:
                self.by_marker[marker] = list(answers)
            else:
                self.by_model[model or self.models[0]] = list(answers)

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.got)

    def _pick(self, body: dict[str, Any]) -> Answer:
        text = json.dumps(body.get("messages"), ensure_ascii=False)
        with self.lock:
            key, answers = next(
                ((f"marker:{m}", a) for m, a in self.by_marker.items() if m in text),
                (f"model:{body.get('model')}", self.by_model.get(str(body.get("model")))),
            )
            if not answers:
                return Answer()
            n = self.taken.get(key, 0)
            self.taken[key] = n + 1
            return answers[min(n, len(answers) - 1)]

    # --- answering ------------------------------------------------------------------------

    def _left(self, handler: BaseHTTPRequestHandler, seconds: float) -> bool:
        """Wait ``seconds`` (until the server stops); True if the client left meanwhile."""
        conn: socket.socket = handler.connection
        end = time.monotonic() + seconds
        while not self.stopping.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([conn], [], [], min(left, 0.05))
            if readable:
                try:
                    if conn.recv(1, socket.MSG_PEEK) == b"":
                        return True
                except OSError:
                    return True
        return True

    def _answer(self, handler: Any, got: Received, body: dict[str, Any]) -> None:
        answer = self._pick(body)
        if answer.hang:
            got.cut = self._left(handler, 3600)
            handler.close_connection = True
            return
        if answer.latency_ms and self._left(handler, answer.latency_ms / 1000):
            got.cut = True
            handler.close_connection = True
            return
        if answer.status != 200:
            extra = {}
            if answer.retry_after is not None:
                extra["Retry-After"] = answer.retry_after
            if answer.location is not None:
                extra["Location"] = answer.location
            error = {"error": {"message": answer.message, "type": "scripted", "code": None}}
            handler._json(answer.status, error, extra)
            return
        output = self._output(answer, body)
        usage = self._usage(answer, body, output)
        if body.get("stream"):
            self._stream(handler, got, answer, body, output, usage)
            return
        if answer.malformed:
            payload = b'{"id": "x", "choices": [{"message": '
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        message: dict[str, Any] = {"role": "assistant", "content": output}
        if answer.tool_calls:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": f"call_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for i, (name, args) in enumerate(answer.tool_calls)
            ]
        data: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": self._finish(answer)}],
        }
        if usage is not None:
            data["usage"] = usage
        handler._json(200, data)

    def _finish(self, answer: Answer) -> str:
        return answer.finish_reason or ("tool_calls" if answer.tool_calls else "stop")

    def _output(self, answer: Answer, body: dict[str, Any]) -> str:
        if answer.json_output is not UNSET:
            return json.dumps(answer.json_output)
        if answer.text is not None:
            return answer.text
        return _prompt(body.get("messages"))

    def _usage(self, answer: Answer, body: dict[str, Any], output: str) -> dict[str, int] | None:
        if answer.usage is not UNSET:
            return answer.usage  # type: ignore[no-any-return]
        prompt, completion = _words(body.get("messages")), len(output.split())
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _stream(
        self,
        handler: Any,
        got: Received,
        answer: Answer,
        body: dict[str, Any],
        output: str,
        usage: dict[str, int] | None,
    ) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk"}
        base["model"] = body.get("model")

        def event(data: Any) -> bytes:
            text = data if isinstance(data, str) else json.dumps({**base, **data})
            return f"data: {text}\n\n".encode()

        events = [event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})]
        if answer.malformed:
            events.append(b"data: {not json\n\n")
        pieces = answer.pieces
        if pieces is None:
            words = output.split(" ")
            pieces = tuple(w if i == 0 else " " + w for i, w in enumerate(words)) if output else ()
        if not answer.tool_calls:
            events += [event({"choices": [{"index": 0, "delta": {"content": p}}]}) for p in pieces]
        for i, (name, args) in enumerate(answer.tool_calls):
            text = json.dumps(args)
            half = len(text) // 2
            first = {"index": i, "id": f"call_{i}", "type": "function"}
            first["function"] = {"name": name, "arguments": text[:half]}
            events.append(event({"choices": [{"index": 0, "delta": {"tool_calls": [first]}}]}))
            rest = {"index": i, "function": {"arguments": text[half:]}}
            events.append(event({"choices": [{"index": 0, "delta": {"tool_calls": [rest]}}]}))
        finish = {"index": 0, "delta": {}, "finish_reason": self._finish(answer)}
        events.append(event({"choices": [finish]}))
        include = (body.get("stream_options") or {}).get("include_usage")
        if include and usage is not None:
            events.append(event({"choices": [], "usage": usage}))
        events.append(event("[DONE]"))
        try:
            for i, data in enumerate(events):
                if i and answer.piece_ms and self._left(handler, answer.piece_ms / 1000):
                    got.cut = True
                    break
                handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                handler.wfile.flush()
                got.pieces_sent += 1
            else:
                handler.wfile.write(b"0\r\n\r\n")
                return
        except OSError:
            got.cut = True
        handler.close_connection = True

    # --- lifetime -------------------------------------------------------------------------

    def start(self) -> FakeLLM:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Waits:
    """An injected ``sleep``: records the waits asked for, waits for none of them."""

    asked: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


class LoopbackOnly(httpcore.AnyIOBackend):
    """The guard's inner backend in tests: it connects to loopback addresses only, so a guard
    that let something through fails the test instead of sending traffic off the machine."""

    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        assert ip_address(host).is_loopback, f"the guard let {host} through"
        self.connected.append(host)
        return await super().connect_tcp(host, port, timeout, local_address, socket_options)


@dataclass
class Names:
    """An injected resolver: names to the addresses given, each call counted."""

    table: dict[str, list[str]]
    calls: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[Address]:
        self.calls.append(host)
        answers = self.table.get(host)
        if answers is None:
            raise httpcore.ConnectError(f"{host} is not a known name")
        return [ip_address(a) for a in answers]


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Until ``check()`` is true, at most ``timeout`` seconds (the test asserts after)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        time.sleep(0.02)
