"""The steps of the evaluation runner that touch the database (the runner itself, which calls
the providers, is the server's: server/evaluations.py). Each is one short transaction and
none is open while a model answers:

1. ``claim``: pending items of live evaluations, for this process until the lease ends.
2. ``prepare``: each item's version rendered with its case's variables (the version's
   contract checked), as the chat request to send; its evaluators.
3. ``judge_request``: a judge's rubric rendered with the answer, as the request to send.
4. ``record``: what was worked, only while each lease is still this process's; the
   evaluations whose last item this was.
   ``live``: which evaluations are still live (items claimed ahead of a cancel are dropped).
5. ``conclude``: summaries and the paired comparison, in one UPDATE … WHERE the evaluation
   is still running (the first to conclude wins; a cancel before it too)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from promptdeck import limits
from promptdeck.core import evaluations as evaluations_core
from promptdeck.core import load, providers
from promptdeck.core.render import render, render_version
from promptdeck.core.tx import Database, Tx
from promptdeck.domain import evaluations as ev
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import RenderPrompt
from promptdeck.domain.completions import Completion
from promptdeck.domain.evaluations import Work, Worked
from promptdeck.domain.evaluators import Evaluator, Judge, judge_variables
from promptdeck.domain.models import Version
from promptdeck.domain.providers import ChatRequest, StoredProvider, choose_model, messages_of
from promptdeck.domain.refs import PromptRef
from promptdeck.errors import PromptdeckError
from promptdeck.store import evaluations as store

WORKER = Caller.local("evaluations")  # the caller of the runner's transactions


@dataclass(frozen=True, slots=True)
class Prepared:
    """An item ready to send: its request, the provider, and its evaluators."""

    work: Work
    request: ChatRequest
    provider: StoredProvider
    input_text: str  # the prompt as the model got it (a judge's {{input}})
    evaluators: tuple[Evaluator, ...]


@lru_cache(maxsize=256)
def _built(configs: str) -> tuple[Evaluator, ...]:
    """An evaluation's evaluators, built once a configuration (compiled patterns, schemas)."""
    return tuple(evaluations_core.build_stored(json.loads(configs)))


def evaluators_of(configs: Sequence[dict[str, Any]]) -> tuple[Evaluator, ...]:
    return _built(json.dumps(list(configs), sort_keys=True))


def _text(request: ChatRequest) -> str:
    return "\n\n".join(
        f"{m.get('role', 'user')}: {m.get('content') or ''}" for m in request.messages
    )


class EvaluationWork:
    """The runner's transactions, on the registry's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, token: str, *, lease: timedelta, limit: int) -> list[Work]:
        with self.db.writing(WORKER) as tx:
            now = tx.clock()
            return store.claim(tx.conn, now=now, until=now + lease, token=token, limit=limit)

    def prepare(self, works: Sequence[Work]) -> list[Prepared | Worked]:
        """Each item as a request to send, or (a version that cannot be rendered with the
        case's variables, a model the provider lacks) its failure, to record as is. Each
        provider and version is read once a batch."""
        found: list[Prepared | Worked] = []
        with self.db.reading(WORKER) as tx:
            known: dict[int, StoredProvider] = {}
            versions: dict[tuple[int, int], tuple[str, Version]] = {}
            for work in works:
                try:
                    if work.provider_id not in known:
                        known[work.provider_id] = providers.by_id(tx, work.provider_id)
                    key = (work.prompt_id, work.version_id)
                    if key not in versions:
                        row = load.prompt_row(tx, PromptRef(id=work.prompt_id))
                        versions[key] = (row.name, load.version(tx, row.id, work.version_id))
                    found.append(self._prepare(tx, work, known[work.provider_id], *versions[key]))
                except PromptdeckError as exc:
                    found.append(failure(work, exc.detail))
        return found

    def _prepare(
        self, tx: Tx, work: Work, provider: StoredProvider, prompt_name: str, version: Version
    ) -> Prepared:
        rendered = render_version(tx, prompt_name, version, work.variables)  # contract checked
        contract = version.contract
        config = dict(version.model_config or {})
        request = ChatRequest(
            model=choose_model(work.model, config, provider.config),
            messages=messages_of(rendered.text, rendered.messages),
            model_config=config,
            tools=list(contract.tools) or None if contract is not None else None,
            response_format=contract.response_format if contract is not None else None,
        )
        return Prepared(work, request, provider, _text(request), evaluators_of(work.evaluators))

    def judge_request(
        self, item: Prepared, judge: Judge, answer: Completion
    ) -> tuple[StoredProvider, ChatRequest]:
        """The judge's rubric (its fixed version) rendered with the answer, and where to send it."""
        with self.db.reading(WORKER) as tx:
            provider = (
                item.provider if judge.provider is None else providers.get(tx, judge.provider)
            )
            values = judge_variables(
                input_text=item.input_text,
                output=answer.output,
                expected=item.work.expected,
                metadata=item.work.metadata,
            )
            cmd = RenderPrompt(PromptRef.parse(judge.prompt), values, judge.version)
            result = render(tx, cmd)
        rendered = result.rendered
        config = dict(result.version.model_config or {})
        asked = judge.model or (item.request.model if judge.provider is None else None)
        return provider, ChatRequest(
            model=choose_model(asked, config, provider.config),
            messages=messages_of(rendered.text, rendered.messages),
            model_config=config,
        )

    def record(self, batch: Sequence[Worked]) -> list[int]:
        """Record what was worked, in one transaction; the evaluations it completed (their
        conclusion is the caller's next step: ``conclude``)."""
        with self.db.writing(WORKER) as tx:
            now = tx.clock()
            counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
            for worked in store.record_worked(tx.conn, batch, now):
                c = counts[worked.evaluation_id]
                c[0] += 1
                c[1] += worked.completion is None
                c[2] += worked.reports  # a failed item's reported results: errors
            whole = []
            for evaluation_id, (done, failed, reports) in sorted(counts.items()):
                _, complete = store.advance(
                    tx.conn, evaluation_id, done=done, failed=failed, reports=reports
                )
                if complete:
                    whole.append(evaluation_id)
        return whole

    def live(self, evaluation_ids: set[int]) -> set[int]:
        """Those of the evaluations still live (not cancelled, not ended)."""
        with self.db.reading(WORKER) as tx:
            return store.live(tx.conn, evaluation_ids)

    def conclude(self, evaluation_id: int) -> bool:
        """Summaries and comparison of a complete evaluation, written once."""
        with self.db.reading(WORKER) as tx:
            found = evaluations_core.conclusion(tx, evaluation_id)
        if found is None:
            return False
        with self.db.writing(WORKER) as tx:
            return evaluations_core.write_conclusion(tx, *found)

    def ready(self) -> list[int]:
        """Complete evaluations whose conclusion is not written (its writer died)."""
        with self.db.reading(WORKER) as tx:
            return store.ready(tx.conn)

    def fail(self, evaluation_id: int, error: str) -> None:
        """The evaluation cannot run at all (its provider's key is not set): failed, with why."""
        with self.db.writing(WORKER) as tx:
            store.set_status(
                tx.conn,
                evaluation_id,
                {"status": ev.FAILED, "error": error[: ev.ERROR_KEEP], "finished_at": tx.clock()},
                only=ev.LIVE,
            )


def failure(work: Work, error: str) -> Worked:
    """An item that gave no answer: every evaluator's result is an error."""
    names = ev.evaluator_names(work.evaluators)
    reported = sum(c.get("type") == "reported" for c in work.evaluators)
    results = ev.failed_results(names, error)
    return Worked(work.item_id, work.evaluation_id, work.token, None, error, results, reported)


def worked(item: Prepared, answer: Completion, results: dict[str, Any]) -> Worked:
    """An answer and its results; the output kept up to its bound."""
    keep = limits.EVALUATION_OUTPUT_KEEP
    if len(answer.output) > keep:
        answer = Completion(**{**_fields(answer), "output": answer.output[:keep]})
    return Worked(
        item.work.item_id, item.work.evaluation_id, item.work.token, answer, None, results
    )


def _fields(answer: Completion) -> dict[str, Any]:
    return {f: getattr(answer, f) for f in Completion.__dataclass_fields__}
