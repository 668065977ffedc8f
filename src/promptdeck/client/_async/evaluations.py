"""Test sets, evaluations and the gates of labels (docs/evaluations.md): start an evaluation
and wait for its verdict, or run one here with your own evaluator (``evaluate``)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from promptdeck.client import evaluations as calls
from promptdeck.client._async.base import AsyncSender
from promptdeck.schemas import (
    EvaluationItemOut,
    EvaluationOut,
    GateCheckOut,
    GateOut,
    Page,
    ReportOut,
    TestCaseOut,
    TestSetOut,
)

LIVE = ("queued", "running")
REPORT_BATCH = 200  # items asked for and reported at once by evaluate()


def judgement(value: Any) -> dict[str, Any]:
    """What an evaluator function returned, as a reported result: ``True``/``False`` (pass
    or fail), a number from 0 to 1 (a score; it passes from 0.5), or a dict with
    ``passed``, ``score`` and ``reason``."""
    if isinstance(value, bool):
        return {"passed": value}
    if isinstance(value, int | float):
        return {"score": float(value)}
    if isinstance(value, dict):
        return {k: value[k] for k in ("passed", "score", "reason") if value.get(k) is not None}
    raise TypeError(f"an evaluator returns a bool, a number or a dict, not {type(value).__name__}")


class AsyncEvaluationMethods(AsyncSender):
    # --- test sets ----------------------------------------------------------------------------

    async def create_test_set(
        self,
        name: str,
        prompt: str | int,
        cases: list[dict[str, Any]] | None = None,
        *,
        data: str | None = None,
        format: str | None = None,
        description: str | None = None,
    ) -> TestSetOut:
        """A test set of ``prompt`` with its first cases (version 1): ``cases`` as
        ``{"variables": {...}, "expected": ..., "metadata": {...}}``, or ``data``, the text
        of a JSONL or CSV file (``format``: ``jsonl``, the default, or ``csv``)."""
        return await self._send(
            calls.create_test_set(
                name, prompt, cases=cases, fmt=format, data=data, description=description
            )
        )

    async def add_cases(
        self,
        name: str,
        cases: list[dict[str, Any]] | None = None,
        *,
        data: str | None = None,
        format: str | None = None,
        description: str | None = None,
    ) -> TestSetOut:
        """The set's next version: its cases and these (a list, or JSONL or CSV text)."""
        return await self._send(
            calls.add_cases(name, cases=cases, fmt=format, data=data, description=description)
        )

    async def list_test_sets(
        self,
        *,
        prompt: str | int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[TestSetOut]:
        return await self._send(calls.list_test_sets(prompt=prompt, limit=limit, cursor=cursor))

    def iter_test_sets(self, *, prompt: str | int | None = None) -> AsyncIterator[TestSetOut]:
        return self._items(
            lambda cursor: calls.list_test_sets(prompt=prompt, limit=200, cursor=cursor)
        )

    async def get_test_set(self, name: str) -> TestSetOut:
        """The set with its versions, newest first."""
        return await self._send(calls.get_test_set(name))

    async def list_cases(
        self,
        name: str,
        *,
        version: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[TestCaseOut]:
        """The cases of a version of the set (its newest by default), in order."""
        return await self._send(calls.list_cases(name, version=version, limit=limit, cursor=cursor))

    def iter_cases(self, name: str, *, version: int | None = None) -> AsyncIterator[TestCaseOut]:
        return self._items(
            lambda cursor: calls.list_cases(name, version=version, limit=200, cursor=cursor)
        )

    # --- evaluations --------------------------------------------------------------------------

    async def start_evaluation(
        self,
        prompt: str | int,
        versions: Sequence[int | str],
        test_set: str,
        evaluators: Sequence[dict[str, Any]],
        *,
        provider: str | None = None,
        model: str | None = None,
        test_set_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> EvaluationOut:
        """Queue an evaluation of ``versions`` (ids or version names; the baseline first,
        the candidate second) on ``test_set``, judged by ``evaluators``
        (``[{"type": "contains", "value": "refund"}, …]``), run through ``provider``."""
        version_ids = [await self._version_id(prompt, v) for v in versions]
        body: dict[str, Any] = {
            "version_ids": version_ids,
            "test_set": test_set,
            "evaluators": list(evaluators),
        }
        for key, value in (
            ("provider", provider),
            ("model", model),
            ("test_set_version", test_set_version),
        ):
            if value is not None:
                body[key] = value
        return await self._send(
            calls.start_evaluation(prompt, body, idempotency_key=idempotency_key)
        )

    async def get_evaluation(self, evaluation_id: int) -> EvaluationOut:
        """Status, progress, per-version summaries and, for two versions, the comparison."""
        return await self._send(calls.get_evaluation(evaluation_id))

    async def list_evaluations(
        self,
        prompt: str | int,
        *,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[EvaluationOut]:
        return await self._send(
            calls.list_evaluations(prompt, status=status, limit=limit, cursor=cursor)
        )

    async def list_evaluation_items(
        self,
        evaluation_id: int,
        *,
        version_id: int | None = None,
        status: str | None = None,
        awaiting: bool = False,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[EvaluationItemOut]:
        """Per case and version: the answer and each evaluator's result, in order."""
        return await self._send(
            calls.list_items(
                evaluation_id,
                version_id=version_id,
                status=status,
                awaiting=awaiting,
                limit=limit,
                cursor=cursor,
            )
        )

    def iter_evaluation_items(
        self, evaluation_id: int, *, version_id: int | None = None, status: str | None = None
    ) -> AsyncIterator[EvaluationItemOut]:
        return self._items(
            lambda cursor: calls.list_items(
                evaluation_id,
                version_id=version_id,
                status=status,
                awaiting=False,
                limit=200,
                cursor=cursor,
            )
        )

    async def cancel_evaluation(self, evaluation_id: int) -> EvaluationOut:
        return await self._send(calls.cancel_evaluation(evaluation_id))

    async def report_results(self, evaluation_id: int, results: list[dict[str, Any]]) -> ReportOut:
        """Results of ``reported`` evaluators, ``[{"item_id": 5, "results": {"mine":
        {"passed": true, "score": 0.9, "reason": "…"}}}]`` (and, for an evaluation without a
        provider, each item's ``output``)."""
        return await self._send(calls.report_results(evaluation_id, results))

    async def wait_evaluation(
        self,
        evaluation_id: int,
        *,
        poll: float = 1.0,
        timeout: float | None = None,
        on_progress: Callable[[EvaluationOut], Any] | None = None,
    ) -> EvaluationOut:
        """The evaluation once it is no longer queued or running (``TimeoutError`` after
        ``timeout`` seconds); ``on_progress`` sees it at each poll."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            found = await self.get_evaluation(evaluation_id)
            if on_progress is not None:
                on_progress(found)
            if found.status not in LIVE:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"evaluation {evaluation_id} is still {found.status}")
            await asyncio.sleep(poll)

    async def evaluate(
        self,
        prompt: str | int,
        versions: Sequence[int | str],
        test_set: str,
        evaluator: Callable[[EvaluationItemOut], Any],
        *,
        name: str | None = None,
        run: Callable[[EvaluationItemOut], Any] | None = None,
        provider: str | None = None,
        model: str | None = None,
        evaluators: Sequence[dict[str, Any]] = (),
        poll: float = 1.0,
        timeout: float | None = None,
    ) -> EvaluationOut:
        """Run an evaluation whose judge is your own function, here, and report its results.

        With ``provider`` the server runs the versions; without it ``run(item)`` does (your
        application's own call: the item has ``version_id``, ``variables``, ``expected``,
        ``metadata``) and returns the answer's text. ``evaluator(item)`` (the item with its
        ``output``) returns ``True``/``False``, a score from 0 to 1, or ``{"passed",
        "score", "reason"}``; either function may be a coroutine function. Its results are
        the reported evaluator ``name`` (default: the function's name), beside any built-in
        ``evaluators``; the server compares the versions as for any evaluation. Returns the
        evaluation once finished."""
        label = (name or getattr(evaluator, "__name__", "") or "client").strip("_<>")[:64]
        if provider is None and run is None:
            raise ValueError("give run= (your own call) or provider= (the server's)")
        configs = [*evaluators, {"type": "reported", "name": label or "client"}]
        started = await self.start_evaluation(
            prompt, versions, test_set, configs, provider=provider, model=model
        )
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            page = await self.list_evaluation_items(started.id, awaiting=True, limit=REPORT_BATCH)
            if page.items:
                reports = [
                    await self._judge_one(item, evaluator, run, label) for item in page.items
                ]
                await self.report_results(started.id, reports)
                continue
            found = await self.get_evaluation(started.id)
            if found.status not in LIVE:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"evaluation {started.id} is still {found.status}")
            await asyncio.sleep(poll)

    async def _judge_one(
        self,
        item: EvaluationItemOut,
        evaluator: Callable[[EvaluationItemOut], Any],
        run: Callable[[EvaluationItemOut], Any] | None,
        label: str,
    ) -> dict[str, Any]:
        report: dict[str, Any] = {"item_id": item.id}
        if item.status == "pending" and run is not None:
            started = time.perf_counter()
            try:
                output = run(item)
                if inspect.isawaitable(output):
                    output = await output
            except Exception as exc:  # the application's own call failed: an error result
                report["error"] = f"{type(exc).__name__}: {exc}"[:1000]
                return report
            report["output"] = str(output)
            report["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
            item = item.model_copy(update={"output": report["output"], "status": "done"})
        found = evaluator(item)
        if inspect.isawaitable(found):
            found = await found
        report["results"] = {label: judgement(found)}
        return report

    # --- gates ---------------------------------------------------------------------------------

    async def set_gate(
        self,
        prompt: str | int,
        label: str,
        test_set: str,
        thresholds: dict[str, float] | None = None,
    ) -> GateOut:
        """Require a candidate to pass ``test_set`` (``thresholds``: least pass rate per
        evaluator, and no worse than what the label serves) before a deploy request moves
        ``label`` (admin)."""
        return await self._send(calls.set_gate(prompt, label, test_set, thresholds or {}))

    async def get_gate(self, prompt: str | int, label: str) -> GateOut:
        return await self._send(calls.get_gate(prompt, label))

    async def remove_gate(self, prompt: str | int, label: str) -> None:
        await self._send(calls.remove_gate(prompt, label))

    async def list_gates(self, prompt: str | int) -> list[GateOut]:
        return await self._send(calls.list_gates(prompt))

    async def check_gate(self, prompt: str | int, label: str, version: int | str) -> GateCheckOut:
        """Whether ``version`` may go to ``label`` now, and the evaluation that says so."""
        version_id = await self._version_id(prompt, version)
        return await self._send(calls.check_gate(prompt, label, version_id))
