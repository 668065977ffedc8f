"""Running a prompt once (``POST /prompts/{id}/run``, the playground), in two short
transactions with the provider's call between them and none open during it (rule 10):

1. ``prepare`` (a read): the version (or the draft, checked as a version would be) rendered
   with the variables, the contract's checks first, as the chat request to send, and the
   provider to send it to.
2. ``record`` (a write): a ``prompt.run`` event: who ran which version (or a draft) on which
   provider and model, how long it took, ok or the error. The variables and the output are
   not kept (the audit log is no place for what users type).

The call itself is the server's (server/runs.py: ``promptdeck.outgoing`` is handed to the
core, never imported by it). ``RunLimit`` bounds each caller's runs, in flight and per
minute, in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from promptdeck.core import load, providers
from promptdeck.core.render import render_template
from promptdeck.core.tx import Database, Tx
from promptdeck.domain.caller import Caller
from promptdeck.domain.contracts import Contract
from promptdeck.domain.providers import (
    ChatRequest,
    StoredProvider,
    chat_body,
    choose_model,
    messages_of,
)
from promptdeck.domain.refs import EventKind
from promptdeck.domain.runs import PreparedRun, RunPrompt, RunResult
from promptdeck.errors import RateLimited, VersionUnavailable


def prepare(tx: Tx, cmd: RunPrompt) -> tuple[PreparedRun, StoredProvider]:
    """The request a run sends, and its provider. The prompt is read first: one out of the
    caller's reach is missing (404) before anything else is said of it."""
    row = load.prompt_row(tx, cmd.prompt)
    provider = providers.get(tx, cmd.provider)
    contract: Contract | None
    if cmd.draft is not None:
        draft = cmd.draft.checked(row.name, row.content, row.model_config)
        kind, template_format, content = draft.kind, draft.template_format, draft.content
        config, contract, version_id = dict(draft.model_config), draft.contract, None
    else:
        version_id = cmd.version_id if cmd.version_id is not None else row.active_version_id
        if version_id is None:  # pragma: no cover - a prompt always has an active version
            raise VersionUnavailable(f"{row.name} has no active version to run")
        version = load.version(tx, row.id, version_id)
        if version.content is None:
            raise VersionUnavailable(
                f"{row.name} version {version.number} was purged: nothing to run"
            )
        kind, template_format, content = version.kind, version.template_format, version.content
        config, contract = dict(version.model_config or {}), version.contract
    rendered = render_template(tx, row.name, kind, template_format, content, contract, cmd.values)
    request = ChatRequest(
        model=choose_model(cmd.model, config, provider.config),
        messages=messages_of(rendered.text, rendered.messages),
        model_config=config,
        tools=(list(contract.tools) or None) if contract is not None else None,
        response_format=contract.response_format if contract is not None else None,
    )
    chat_body(request, stream=False)  # a key model_config may not set: 422 before any call
    prepared = PreparedRun(row.id, row.name, version_id, provider.id, request, cmd.stream)
    return prepared, provider


def record(tx: Tx, result: RunResult) -> None:
    run = result.prepared
    tx.record(
        EventKind.PROMPT_RUN, run.prompt_id, version_id=run.version_id, detail=result.detail()
    )


class RunLimit:
    """Each caller's runs in this process: at most ``in_flight`` at once, and ``per_minute``
    started a minute in bursts of up to ``burst`` (a token bucket per caller, as
    ``core/outcomes.IngestLimit`` keeps for outcomes; with N processes a caller may run N
    times as much). 0 turns a bound off."""

    CALLERS_MAX = 10_000  # buckets kept; past it, the idle ones are forgotten

    def __init__(
        self,
        in_flight: int = 0,
        per_minute: float = 0.0,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.in_flight = in_flight
        self.rate = per_minute / 60.0
        self.burst = float(max(1, burst))
        self.clock = clock
        self._running: dict[str, int] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # caller: (tokens, when)
        self._lock = threading.Lock()

    @staticmethod
    def who(caller: Caller) -> str:
        return f"{caller.kind}:{caller.actor}"

    @contextmanager
    def admit(self, caller: Caller) -> Iterator[None]:
        """Hold one of the caller's slots for the block, or raise RateLimited (429, with
        Retry-After) when all are taken or the caller runs faster than the rate."""
        who = self.who(caller)
        self.take(who)
        try:
            yield
        finally:
            self.release(who)

    def take(self, who: str) -> None:
        now = self.clock()
        with self._lock:
            running = self._running.get(who, 0)
            if self.in_flight and running >= self.in_flight:
                raise RateLimited(
                    f"{who.split(':', 1)[1][:80]!r} has {running} runs in flight, the most "
                    f"one caller may (PROMPTDECK_RUN_IN_FLIGHT); retry when one ends",
                    retry_after=1.0,
                )
            if self.rate > 0:
                tokens, then = self._buckets.get(who, (self.burst, now))
                tokens = min(self.burst, tokens + (now - then) * self.rate)
                if tokens < 1:
                    self._buckets[who] = (tokens, now)
                    wait = (1 - tokens) / self.rate
                    raise RateLimited(
                        f"{who.split(':', 1)[1][:80]!r} runs prompts faster than "
                        f"{self.rate * 60:g} a minute (PROMPTDECK_RUN_RATE); retry in "
                        f"{wait:.1f} s",
                        retry_after=wait,
                    )
                self._buckets[who] = (tokens - 1, now)
                if len(self._buckets) > self.CALLERS_MAX:
                    self._forget_idle(now)
            self._running[who] = running + 1

    def release(self, who: str) -> None:
        with self._lock:
            left = self._running.get(who, 1) - 1
            if left > 0:
                self._running[who] = left
            else:
                self._running.pop(who, None)

    def _forget_idle(self, now: float) -> None:
        full = [
            who
            for who, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.burst and who not in self._running
        ]
        for who in full:
            del self._buckets[who]
        if len(self._buckets) > self.CALLERS_MAX:  # that many busy callers: start afresh
            self._buckets.clear()


class Runs:
    """The run's transactions, on the registry's database, and its limits."""

    def __init__(self, db: Database, limit: RunLimit | None = None) -> None:
        self.db = db
        self.limit = limit or RunLimit()

    def prepare(self, cmd: RunPrompt, caller: Caller) -> tuple[PreparedRun, StoredProvider]:
        with self.db.reading(caller) as tx:
            return prepare(tx, cmd)

    def record(self, result: RunResult, caller: Caller) -> None:
        with self.db.writing(caller) as tx:
            record(tx, result)
