"""Running a prompt once on a model provider (``POST /prompts/{id}/run`` and the playground):
the caller's slot taken (core/runs.py ``RunLimit``), the request prepared in a read
transaction, the provider called with no transaction open (``promptdeck.outgoing``: its
timeouts, bounded retries, cancellation), the run recorded as a ``prompt.run`` event,
whatever became of it.

A streamed run answers Server-Sent Events: ``delta`` events (``{"text", "tool_calls"}``), then
``done`` with the whole answer (a RunOut), or ``error`` with a problem document when the
provider fails. Everything that can be refused before the call (a missing prompt or
provider, variables the contract refuses, the limits) is refused as a plain problem before
the stream starts. A client that goes away cancels the stream, which closes the provider's
request; the run is recorded as cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

import anyio
import httpcore
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from promptdeck.config import Settings
from promptdeck.core.runs import RunLimit, Runs
from promptdeck.domain.caller import Caller
from promptdeck.domain.completions import Completion, Delta
from promptdeck.domain.outgoing import Allowance
from promptdeck.domain.providers import StoredProvider
from promptdeck.domain.runs import PreparedRun, RunPrompt, RunResult, usage_json
from promptdeck.domain.sealing import Keyring
from promptdeck.errors import PromptdeckError
from promptdeck.outgoing.guard import Resolver, system_resolver
from promptdeck.outgoing.provider import Provider, ProviderClients
from promptdeck.schemas import RunOut
from promptdeck.server.problems import problem_body, status_of


class EventStream(StreamingResponse):
    """Server-Sent Events that end as soon as the client goes away, on any ASGI server.
    Starlette's own listens for the disconnect only under servers of ASGI spec 2.3
    (uvicorn); under 2.4 (granian, which ``promptdeck serve`` can run on) it notices a client
    that left only when its next piece fails to send, so a provider slow to answer would be
    waited for, and paid, all the same. Here the disconnect is always listened for beside
    the stream, which is cancelled on it (closing the provider's request)."""

    def __init__(self, events: AsyncIterator[bytes]) -> None:
        super().__init__(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                with contextlib.suppress(OSError):  # the client left while it was sent
                    await self.stream_response(send)
                group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()


def limit_of(settings: Settings) -> RunLimit:
    return RunLimit(settings.run_in_flight, settings.run_rate, settings.run_burst)


def run_out(result: RunResult) -> RunOut:
    answer = result.completion
    assert answer is not None
    run = result.prepared
    return RunOut.model_validate(
        {
            "output": answer.output,
            "tool_calls": [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in answer.tool_calls
            ],
            "finish_reason": answer.finish_reason,
            "latency_ms": answer.latency_ms,
            "first_token_ms": answer.first_token_ms,
            "usage": usage_json(answer) if answer.usage is not None else None,
            "cost": answer.cost,
            "version_id": run.version_id,
            "prompt_id": run.prompt_id,
            "provider": result.provider,
            "model": run.request.model,
            "attempts": answer.attempts,
        }
    )


def _sse(event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\n\n".encode()


def problem_json(exc: PromptdeckError, path: str) -> str:
    status = status_of(exc)
    return problem_body(status, exc.code, exc.title, exc.detail, instance=path).decode()


class PromptRuns:
    """One process's runs: the limits, and one client (connection pool) a provider."""

    def __init__(
        self,
        runs: Runs,
        allowance: Allowance,
        keyring: Keyring,
        *,
        resolver: Resolver = system_resolver,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.runs = runs
        self.clients = ProviderClients(allowance, keyring, resolver=resolver, backend=backend)

    async def aclose(self) -> None:
        await self.clients.aclose()

    # --- whole answers -------------------------------------------------------------------------

    async def run(self, cmd: RunPrompt, caller: Caller) -> RunResult:
        """The whole answer; a provider's failure is recorded, then raised."""
        with self.runs.limit.admit(caller):
            prepared, stored = await anyio.to_thread.run_sync(self.runs.prepare, cmd, caller)
            started = _now()
            try:
                completion = await self.clients.get(stored).complete(prepared.request)
            except PromptdeckError as exc:
                await self._record(_failed(prepared, stored, started, exc), caller)
                raise
            except asyncio.CancelledError:
                await self._record(_cancelled(prepared, stored, started), caller)
                raise
            result = RunResult(prepared, stored.name, _ms(started), completion)
            await self._record(result, caller)
            return result

    # --- streams -------------------------------------------------------------------------------

    async def stream(self, cmd: RunPrompt, caller: Caller, path: str) -> AsyncIterator[bytes]:
        """The run's events; refused (raised) before the first one when it cannot start."""
        who = RunLimit.who(caller)
        self.runs.limit.take(who)
        try:
            prepared, stored = await anyio.to_thread.run_sync(self.runs.prepare, cmd, caller)
            provider = self.clients.get(stored)
        except BaseException:
            self.runs.limit.release(who)
            raise
        return self._events(prepared, stored, provider, caller, who, path)

    async def _events(
        self,
        prepared: PreparedRun,
        stored: StoredProvider,
        provider: Provider,
        caller: Caller,
        who: str,
        path: str,
    ) -> AsyncIterator[bytes]:
        started = _now()
        try:
            completion: Completion | None = None
            try:
                pieces = cast(AsyncGenerator[Delta | Completion], provider.stream(prepared.request))
                async with contextlib.aclosing(pieces):
                    async for piece in pieces:
                        if isinstance(piece, Delta):
                            yield _sse("delta", json.dumps(_delta(piece)))
                        else:
                            completion = piece
            except PromptdeckError as exc:
                await self._record(_failed(prepared, stored, started, exc), caller)
                yield _sse("error", problem_json(exc, path))
                return
            except BaseException:  # the client went away (cancelled), or a bug
                await self._record(_cancelled(prepared, stored, started), caller)
                raise
            assert completion is not None
            result = RunResult(prepared, stored.name, _ms(started), completion)
            await self._record(result, caller)
            yield _sse("done", run_out(result).model_dump_json())
        finally:
            self.runs.limit.release(who)

    # --- shared ----------------------------------------------------------------------------------

    async def _record(self, result: RunResult, caller: Caller) -> None:
        # Shielded: a run cut short by its client is recorded too.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.runs.record, result, caller)


def _delta(piece: Delta) -> dict[str, Any]:
    out: dict[str, Any] = {"text": piece.text}
    if piece.tool_calls:
        out["tool_calls"] = [
            {"index": p.index, "id": p.id, "name": p.name, "arguments": p.arguments}
            for p in piece.tool_calls
        ]
    return out


def _now() -> float:
    return asyncio.get_running_loop().time()


def _ms(started: float) -> float:
    return round((_now() - started) * 1000, 3)


def _failed(
    prepared: PreparedRun, stored: StoredProvider, started: float, exc: PromptdeckError
) -> RunResult:
    return RunResult(prepared, stored.name, _ms(started), error_code=exc.code, error=exc.detail)


def _cancelled(prepared: PreparedRun, stored: StoredProvider, started: float) -> RunResult:
    return RunResult(
        prepared,
        stored.name,
        _ms(started),
        error_code="cancelled",
        error="the client went away before the answer was whole",
        cancelled=True,
    )
