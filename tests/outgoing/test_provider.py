"""The provider client against the stand-in OpenAI-compatible server: answers whole and
streamed, tool calls, JSON, token counts and cost; retries on 429 and 5xx and when to stop;
timeouts, cancellation; and the key, which never shows outside its header."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest

from promptdeck.domain.completions import Completion, Delta
from promptdeck.domain.outgoing import NOTHING, parse_allowance
from promptdeck.domain.providers import (
    ChatRequest,
    RetryPolicy,
    Secret,
    Timeouts,
    provider_config,
)
from promptdeck.errors import (
    InvalidInput,
    OutgoingRefused,
    PromptdeckError,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
)
from promptdeck.outgoing.provider import Provider, api_key
from tests.support.aio import run
from tests.support.fake_llm import Answer, FakeLLM, Waits, wait_until

pytestmark = pytest.mark.sqlite_only  # no database here: one pass is enough

KEY = "sk-test-0123456789abcdefSECRETvalue"
LOOPBACK = parse_allowance("127.0.0.1")


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=("m", "judge")) as server:
        yield server


def provider(
    llm: FakeLLM,
    *,
    waits: Waits | None = None,
    attempts: int = 3,
    read_s: float = 30.0,
    total_s: float = 60.0,
    key: str | None = KEY,
) -> Provider:
    config = provider_config(
        "local",
        llm.url,
        ["m", "judge"],
        prices={"m": {"input": 2.0, "output": 8.0}},
        timeouts=Timeouts(connect_s=5.0, read_s=read_s, total_s=total_s),
        retry=RetryPolicy(attempts=attempts),
    )
    return Provider(
        config,
        key=None if key is None else Secret(key),
        allowance=LOOPBACK,
        rng=random.Random(1),
        sleep=waits or Waits(),
    )


def ask(text: str = "Say hello to Ada", **config: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[{"role": "user", "content": text}], model_config=config)


async def complete(p: Provider, request: ChatRequest) -> Completion:
    async with p:
        return await p.complete(request)


async def streamed(p: Provider, request: ChatRequest) -> list[Delta | Completion]:
    async with p:
        return [item async for item in p.stream(request)]


def test_a_completion_has_output_usage_cost_latency_and_finish_reason(llm: FakeLLM) -> None:
    llm.script(Answer(text="Hello, Ada!", usage={"prompt_tokens": 1000, "completion_tokens": 500}))
    found = run(complete(provider(llm), ask(temperature=0.2, max_tokens=50, seed=7)))
    assert found.output == "Hello, Ada!"
    assert found.finish_reason == "stop"
    assert found.usage is not None
    assert (found.usage.prompt_tokens, found.usage.completion_tokens) == (1000, 500)
    assert found.usage.total_tokens == 1500
    assert found.cost == pytest.approx((1000 * 2.0 + 500 * 8.0) / 1e6)
    assert found.latency_ms > 0 and found.attempts == 1 and found.tool_calls == ()
    (got,) = llm.received()
    assert got.path == "/v1/chat/completions"
    assert got.headers["authorization"] == f"Bearer {KEY}"
    assert got.body == {
        "temperature": 0.2,
        "max_tokens": 50,
        "seed": 7,
        "model": "m",
        "messages": [{"role": "user", "content": "Say hello to Ada"}],
    }


def test_a_model_without_a_price_or_a_provider_without_usage_has_no_cost(llm: FakeLLM) -> None:
    llm.script(Answer(text="x"), model="judge")
    request = ChatRequest(model="judge", messages=[{"role": "user", "content": "hi"}])
    assert run(complete(provider(llm), request)).cost is None
    llm.script(Answer(text="x", usage=None))
    found = run(complete(provider(llm), ask()))
    assert (found.usage, found.cost) == (None, None)


def test_tools_and_response_format_are_sent_and_tool_calls_come_back(llm: FakeLLM) -> None:
    tool = {"type": "function", "function": {"name": "refund", "parameters": {"type": "object"}}}
    llm.script(Answer(tool_calls=(("refund", {"order": 42, "reason": "late"}),)))
    request = ChatRequest(
        model="m",
        messages=[{"role": "system", "content": "Be kind."}, {"role": "user", "content": "late"}],
        tools=[tool],
        response_format={"type": "json_object"},
    )
    found = run(complete(provider(llm), request))
    assert found.output == "" and found.finish_reason == "tool_calls"
    (call,) = found.tool_calls
    assert call.name == "refund" and call.parsed() == {"order": 42, "reason": "late"}
    body = llm.received()[0].body
    assert body["tools"] == [tool] and body["response_format"] == {"type": "json_object"}


def test_json_output_is_the_models_text(llm: FakeLLM) -> None:
    llm.script(Answer(json_output={"answer": "yes", "score": 0.9}))
    assert json.loads(run(complete(provider(llm), ask())).output) == {"answer": "yes", "score": 0.9}


@pytest.mark.parametrize("key", ["model", "messages", "stream", "tools", "response_format", "n"])
def test_model_config_cannot_override_what_the_call_sets(llm: FakeLLM, key: str) -> None:
    if key == "model":  # the version's default model: not sent as given, never an override
        run(complete(provider(llm), ask(model="judge")))
        assert llm.received()[0].body["model"] == "m"
        return
    with pytest.raises(InvalidInput) as refused:
        run(complete(provider(llm), ask(**{key: 1})))
    assert refused.value.field == f"model_config.{key}"
    assert llm.received() == []


def test_a_stream_gives_pieces_then_the_whole_answer_with_usage(llm: FakeLLM) -> None:
    llm.script(Answer(text="one two three four"))
    items = run(streamed(provider(llm), ask()))
    *pieces, whole = items
    assert all(isinstance(p, Delta) for p in pieces) and isinstance(whole, Completion)
    assert [p.text for p in pieces if isinstance(p, Delta)] == ["one", " two", " three", " four"]
    assert whole.output == "one two three four" and whole.finish_reason == "stop"
    assert whole.usage is not None and whole.usage.completion_tokens == 4
    assert whole.cost is not None and whole.first_token_ms is not None
    body = llm.received()[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_a_streamed_tool_call_is_assembled_from_its_pieces(llm: FakeLLM) -> None:
    llm.script(Answer(tool_calls=(("lookup", {"q": "refund policy"}), ("escalate", {}))))
    *pieces, whole = run(streamed(provider(llm), ask()))
    assert isinstance(whole, Completion)
    assert [(c.name, c.parsed()) for c in whole.tool_calls] == [
        ("lookup", {"q": "refund policy"}),
        ("escalate", {}),
    ]
    assert all(isinstance(p, Delta) and p.tool_calls for p in pieces)


def test_429_is_tried_again_after_retry_after_then_succeeds(llm: FakeLLM) -> None:
    waits = Waits()
    llm.script(Answer(status=429, retry_after="2"), Answer(status=429), Answer(text="ok"))
    found = run(complete(provider(llm, waits=waits), ask()))
    assert found.output == "ok" and found.attempts == 3
    assert len(llm.received()) == 3
    assert waits.asked[0] == 2.0  # as the provider asked
    assert 0.5 <= waits.asked[1] <= 1.0  # the doubled wait of the 2nd attempt, less jitter


def test_5xx_and_a_dropped_connection_are_tried_again(llm: FakeLLM) -> None:
    llm.script(Answer(status=500), Answer(status=503), Answer(text="back"))
    assert run(complete(provider(llm), ask())).output == "back"
    llm.script(Answer(status=502), Answer(text="streamed back"))
    whole = run(streamed(provider(llm), ask()))[-1]
    assert isinstance(whole, Completion) and whole.output == "streamed back"


def test_retries_stop_at_the_bound_with_the_last_failure(llm: FakeLLM) -> None:
    waits = Waits()
    llm.script(Answer(status=500, message="the model fell over"))
    with pytest.raises(ProviderUnavailable) as failed:
        run(complete(provider(llm, waits=waits, attempts=4), ask()))
    assert len(llm.received()) == 4 and len(waits.asked) == 3
    assert failed.value.detail == "provider local answered 500: the model fell over"
    assert failed.value.extra["provider_status"] == 500


def test_a_retry_after_longer_than_the_cap_ends_the_call_at_once(llm: FakeLLM) -> None:
    llm.script(Answer(status=429, retry_after="3600"))
    with pytest.raises(ProviderUnavailable) as failed:
        run(complete(provider(llm), ask()))
    assert len(llm.received()) == 1
    assert failed.value.extra["retry_after"] == 3600.0


def test_a_4xx_is_refused_without_another_attempt(llm: FakeLLM) -> None:
    llm.script(Answer(status=400, message="max_tokens is too large"))
    with pytest.raises(ProviderRefused, match="answered 400: max_tokens is too large"):
        run(complete(provider(llm), ask()))
    with pytest.raises(ProviderRefused):
        run(streamed(provider(llm), ask()))
    assert len(llm.received()) == 2


def test_a_malformed_answer_is_a_provider_failure_not_a_crash(llm: FakeLLM) -> None:
    llm.script(Answer(malformed=True))
    with pytest.raises(ProviderUnavailable, match="not JSON"):
        run(complete(provider(llm), ask()))
    with pytest.raises(ProviderUnavailable, match="not JSON"):
        run(streamed(provider(llm), ask()))


def test_a_hanging_provider_times_out(llm: FakeLLM) -> None:
    llm.script(Answer(hang=True))
    with pytest.raises(ProviderTimeout, match="read timeout"):
        run(complete(provider(llm, read_s=0.3, attempts=2), ask()))
    assert len(llm.received()) == 2  # a timeout is tried again, within the bound
    with pytest.raises(ProviderTimeout):
        run(streamed(provider(llm, read_s=0.3, attempts=1), ask()))


def test_the_total_timeout_bounds_every_attempt_and_wait_together(llm: FakeLLM) -> None:
    llm.script(Answer(hang=True))
    with pytest.raises(ProviderTimeout, match=r"within 0\.5 s"):
        run(complete(provider(llm, read_s=30, total_s=0.5), ask()))
    llm.script(Answer(piece_ms=300))  # a slow stream: each piece in time, the whole not
    with pytest.raises(ProviderTimeout, match=r"within 0\.5 s"):
        run(streamed(provider(llm, read_s=30, total_s=0.5), ask("a b c d e f g h")))


def test_cancelling_a_call_closes_its_request(llm: FakeLLM) -> None:
    llm.script(Answer(hang=True))

    async def cancel() -> None:
        async with provider(llm) as p:
            task = asyncio.create_task(p.complete(ask()))
            while not llm.received():
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    run(cancel())
    wait_until(lambda: llm.received()[0].cut, timeout=10)
    assert llm.received()[0].cut


def test_cancelling_mid_stream_closes_the_stream(llm: FakeLLM) -> None:
    llm.script(Answer(text=" ".join(f"w{i}" for i in range(200)), piece_ms=20))

    async def cancel() -> list[Delta | Completion]:
        got: list[Delta | Completion] = []

        async def read(p: Provider) -> None:
            async for item in p.stream(ask()):
                got.append(item)

        async with provider(llm) as p:
            task = asyncio.create_task(read(p))
            while len(got) < 3:
                await asyncio.sleep(0.01)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return got

    got = run(cancel())
    assert not any(isinstance(g, Completion) for g in got)
    wait_until(lambda: llm.received()[0].cut, timeout=10)
    (request,) = llm.received()
    assert request.cut and request.pieces_sent < 200


def test_stopping_a_stream_early_closes_it(llm: FakeLLM) -> None:
    llm.script(Answer(text=" ".join(f"w{i}" for i in range(200)), piece_ms=10))

    async def first_two() -> None:
        async with provider(llm) as p, contextlib.aclosing(p.stream(ask())) as items:
            n = 0
            async for _ in items:
                n += 1
                if n == 2:
                    break

    run(first_two())
    wait_until(lambda: llm.received()[0].cut, timeout=10)
    assert llm.received()[0].cut


def test_the_provider_is_refused_when_its_address_is_not_allowed(llm: FakeLLM) -> None:
    config = provider_config("local", llm.url, ["m"])

    async def call() -> None:
        async with Provider(config, key=Secret(KEY), allowance=NOTHING) as p:
            await p.complete(ask())

    with pytest.raises(OutgoingRefused, match="loopback"):
        run(call())
    assert llm.received() == []


def _all_text(exc: BaseException) -> str:
    """Everything an error shows: its text, repr, fields, and those of its causes."""
    parts = [str(exc), repr(exc), repr(getattr(exc, "__dict__", {}))]
    for inner in (exc.__cause__, exc.__context__):
        if inner is not None:
            parts.append(_all_text(inner))
    return "\n".join(parts)


def test_the_key_is_never_in_an_error_a_log_or_a_repr(
    llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    """A provider that echoes the key (whole or in part) in its error has it scrubbed; every
    logger, httpx's and httpcore's included, at DEBUG, never sees it."""
    caplog.set_level(logging.DEBUG)
    failures: list[PromptdeckError] = []
    for answer in (
        Answer(status=401, message=f"Incorrect API key provided: {KEY}"),
        Answer(status=401, message=f"Incorrect API key provided: {KEY[:14]}****{KEY[-4:]}"),
        Answer(status=500, message=f"upstream said {KEY}"),
        Answer(status=429, retry_after="1", message=f"slow down, {KEY}"),
        Answer(hang=True),
        Answer(malformed=True),
    ):
        llm.script(answer)
        for call in (complete, streamed):
            with pytest.raises(PromptdeckError) as failed:
                run(call(provider(llm, attempts=2, read_s=0.2), ask()))  # type: ignore[operator]
            failures.append(failed.value)
    p = provider(llm)
    shown = "\n".join(_all_text(f) for f in failures) + repr(p) + repr(p._key) + str(p._key)
    shown += "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert any("Incorrect API key provided: ***" in f.detail for f in failures)
    assert KEY not in shown
    assert KEY[:14] not in shown and KEY[-12:] not in shown
    assert len(llm.received()) > 10 and all(
        r.headers.get("authorization") == f"Bearer {KEY}" for r in llm.received()
    )


def test_the_key_comes_from_the_environment_variable_the_config_names(
    llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = provider_config("local", llm.url, ["m"], api_key_env="LOCAL_LLM_API_KEY")
    with pytest.raises(ProviderUnavailable, match="LOCAL_LLM_API_KEY is not set"):
        api_key(config)
    monkeypatch.setenv("LOCAL_LLM_API_KEY", KEY)
    key = api_key(config)
    assert key is not None and key.reveal() == KEY and KEY not in repr(key)

    async def call() -> Completion:
        async with Provider(config, key=key, allowance=LOOPBACK) as p:
            return await p.complete(ask())

    run(call())
    assert llm.received()[0].headers["authorization"] == f"Bearer {KEY}"
    assert api_key(config, Secret("stored-key-1")).reveal() == "stored-key-1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "name", ["PROMPTDECK_DATABASE_URL", "PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "openai_api_key", ""]
)
def test_only_variables_named_as_api_keys_can_be_read(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        provider_config("local", "http://x.example/v1", ["m"], api_key_env=name)
    assert refused.value.field == "api_key_env"
    assert "PROMPTDECK_API_KEY".endswith("_API_KEY")  # and PROMPTDECK_* is refused too
    with pytest.raises(InvalidInput):
        provider_config("local", "http://x.example/v1", ["m"], api_key_env="PROMPTDECK_API_KEY")
