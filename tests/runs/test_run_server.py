"""A streamed run on a real server (uvicorn): a client that goes away stops the provider's
call at once, not at its next piece, and the run is recorded as cancelled; the same under
a server of ASGI spec 2.4, where Starlette's own stream would wait for the next piece."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import httpx
from starlette.types import Message

from promptdeck.core import Registry
from promptdeck.domain.providers import Timeouts
from promptdeck.server.runs import EventStream
from tests.evaluations.helpers import LOOPBACK
from tests.runs.conftest import add_provider
from tests.support.fake_llm import Answer, FakeLLM, wait_until
from tests.support.server import ServerProcess


def test_a_client_that_leaves_a_stream_cuts_the_providers_call_and_the_run_is_recorded(
    start_server: Callable[..., ServerProcess], registry: Registry, llm: FakeLLM, name: str
) -> None:
    add_provider(registry, llm, timeouts=Timeouts(connect_s=2, read_s=60, total_s=120))
    # A piece every 1.5 s; the client leaves after the first: the provider's request is closed
    # while the server waits for the second.
    llm.script(Answer(pieces=("first ", "second ", "third"), piece_ms=1500))
    server = start_server(env={"PROMPTDECK_ALLOW_OUTGOING": LOOPBACK})
    with httpx.Client(base_url=server.url, timeout=30) as http:
        made = http.post("/prompts", json={"name": name, "content": "Say {{q}}"})
        assert made.status_code == 201, made.text
        body = {"variables": {"q": "hi"}, "provider": "local", "stream": True}
        with http.stream("POST", f"/prompts/{name}/run", json=body) as ran:
            assert ran.status_code == 200
            lines = ran.iter_lines()
            assert next(lines) == "event: delta"
            assert '"first "' in next(lines)
        # The response is closed here (its connection dropped, as a browser tab closing).
    wait_until(lambda: bool(llm.received()) and llm.received()[0].cut, timeout=20)
    assert llm.received()[0].pieces_sent == 2  # the role's piece and the first: no more

    def recorded() -> list[dict[str, object]]:
        found = httpx.get(
            f"{server.url}/events", params={"prompt": name, "kind": "prompt.run"}, timeout=10
        )
        return list(found.json()["items"])

    wait_until(lambda: len(recorded()) == 1, timeout=20)
    detail = recorded()[0]["detail"]
    assert isinstance(detail, dict)
    assert detail["ok"] is False and detail["cancelled"] is True


def test_under_an_asgi_2_4_server_a_stream_is_cancelled_when_its_client_leaves() -> None:
    cancelled = anyio.Event()

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b"event: delta\ndata: {}\n\n"
            await anyio.sleep(3600)  # a provider that takes its time over the next piece
            yield b"never"
        finally:
            cancelled.set()

    async def scenario() -> list[Message]:
        sent: list[Message] = []
        first = anyio.Event()

        async def send(message: Message) -> None:
            sent.append(message)
            if message.get("body"):
                first.set()

        async def receive() -> Message:
            await first.wait()  # the client reads the first piece, then leaves
            return {"type": "http.disconnect"}

        scope = {"type": "http", "asgi": {"spec_version": "2.4"}}
        with anyio.fail_after(10):
            await EventStream(events())(scope, receive, send)
            await cancelled.wait()
        return sent

    sent = anyio.run(scenario)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
