"""Evaluations (issue 25): versions of a prompt run on a test set's cases, each answer judged by
evaluators, the versions compared. Pure: the records the core returns, the unit of work the
runner claims and what it records, and the conclusion (summaries, the paired comparison and
its verdict, from ``domain/evaluation_stats.py``) in the JSON the evaluation keeps."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from promptdeck.domain.completions import Completion, ToolCall, Usage
from promptdeck.domain.contracts import canonical_json
from promptdeck.domain.contracts.check import compiled
from promptdeck.domain.evaluation_stats import (
    CaseRun,
    EvaluatorSummary,
    VersionSummary,
    compare,
    summarize,
)
from promptdeck.domain.evaluators import Evaluator, Judge, Observation, Reported, Result
from promptdeck.domain.impact import Interval, Verdict
from promptdeck.errors import ContractInvalid, InvalidInput

QUEUED, RUNNING, COMPLETED, CANCELLED, FAILED = (
    "queued",
    "running",
    "completed",
    "cancelled",
    "failed",
)
STATUSES = (QUEUED, RUNNING, COMPLETED, CANCELLED, FAILED)
LIVE = (QUEUED, RUNNING)  # still worked on; cancel stops them
PENDING, DONE, ITEM_FAILED = "pending", "done", "failed"  # an item's status
ERROR_KEEP = 500  # characters of an item's error kept


@dataclass(frozen=True, slots=True)
class Progress:
    total: int
    done: int
    failed: int
    reports_total: int = 0
    reports_done: int = 0

    @property
    def fraction(self) -> float:
        """Items worked and results reported, over all there are to do."""
        whole = self.total + self.reports_total
        return 1.0 if whole == 0 else (self.done + self.reports_done) / whole


@dataclass(frozen=True, slots=True)
class Evaluation:
    id: int
    prompt_id: int
    prompt_name: str
    status: str
    version_ids: tuple[int, ...]  # the baseline first, the candidate second
    test_set: str
    test_set_version: int
    evaluators: tuple[dict[str, Any], ...]  # as configured; a judge's version fixed
    provider: str | None  # None: the caller runs the versions and reports the outputs
    model: str | None
    progress: Progress
    summaries: tuple[dict[str, Any], ...] | None
    comparison: dict[str, Any] | None
    verdict: str | None
    error: str | None
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_by: str | None


@dataclass(frozen=True, slots=True)
class ItemResult:
    evaluator: str
    passed: bool
    score: float | None
    reason: str
    error: bool

    @property
    def result(self) -> Result:
        return Result(self.passed, self.score, self.reason, self.error)


@dataclass(frozen=True, slots=True)
class Item:
    """One version on one case, with its case, what the model answered and the results."""

    id: int
    version_id: int
    case_id: int
    position: int
    status: str
    attempts: int
    variables: dict[str, Any]
    expected: Any
    metadata: dict[str, Any]
    output: str | None
    tool_calls: tuple[ToolCall, ...]
    latency_ms: float | None
    usage: Usage | None
    cost: float | None
    error: str | None
    finished_at: datetime | None
    results: tuple[ItemResult, ...] = ()


# --- the runner's unit of work -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Work:
    """An item claimed by one process until its lease ends."""

    item_id: int
    evaluation_id: int
    prompt_id: int
    version_id: int
    case_id: int
    variables: dict[str, Any]
    expected: Any
    metadata: dict[str, Any]
    provider_id: int
    model: str | None
    evaluators: tuple[dict[str, Any], ...]
    token: str


@dataclass(frozen=True, slots=True)
class Worked:
    """What the runner records for an item: the answer (or the error) and every evaluator's
    result; recorded only while the lease is still ``token``'s."""

    item_id: int
    evaluation_id: int
    token: str
    completion: Completion | None
    error: str | None
    results: Mapping[str, Result]
    reports: int = 0  # reported evaluators whose results this fills (errors, for a failure)


def observe(completion: Completion, expected: Any) -> Observation:
    return Observation(completion.output, completion.tool_calls, completion.latency_ms, expected)


def judge_locally(evaluators: Iterable[Evaluator], seen: Observation) -> dict[str, Result]:
    """Every evaluator's result that needs no model and no caller (not judges, not reported)."""
    return {e.name: e.evaluate(seen) for e in evaluators if not isinstance(e, Judge | Reported)}


def failed_results(names: Iterable[str], error: str) -> dict[str, Result]:
    """A call that gave no answer: an error result for every evaluator."""
    reason = f"no answer: {error}"[:300]
    return {n: Result(False, None, reason, error=True) for n in names}


# --- JSON Schemas for evaluators (the contracts' engine) ------------------------------------


class ContractSchemas:
    """The ``SchemaValidator`` of ``json_schema`` and ``tool_called`` evaluators: the
    contracts' vocabulary and bounds (docs/contracts.md), compiled once a schema."""

    def check(self, schema: Mapping[str, Any], field: str) -> None:
        try:
            compiled(canonical_json(schema))
        except ContractInvalid as exc:
            raise InvalidInput(f"{field}: {exc.detail}", field=field) from None
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{field} is not a JSON Schema: {exc}", field=field) from None

    def errors(self, schema: Mapping[str, Any], instance: Any) -> Sequence[str]:
        validator = compiled(canonical_json(schema)).validator
        if validator.is_valid(instance):
            return []
        return [e.message for e in islice(validator.iter_errors(instance), 1)]


SCHEMAS = ContractSchemas()


# --- the conclusion ----------------------------------------------------------------------------


def evaluator_names(configs: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(c.get("name") or c["type"]) for c in configs]


def run_of(item: Item) -> CaseRun:
    return CaseRun(
        case=item.case_id,
        results={r.evaluator: r.result for r in item.results},
        latency_ms=item.latency_ms,
        usage=item.usage,
        cost=item.cost,
        failed=item.status == ITEM_FAILED,
    )


@dataclass(frozen=True, slots=True)
class Conclusion:
    summaries: list[dict[str, Any]]
    comparison: dict[str, Any] | None
    verdict: Verdict | None


def _plain(value: Any) -> Any:
    """A dataclass tree as JSON-ready values (no NaN: a test that could not run is null)."""
    data = dataclasses.asdict(value)
    return json.loads(json.dumps(data, allow_nan=True).replace("NaN", "null"))


def conclude(
    version_ids: Sequence[int], names: Sequence[str], runs: Mapping[int, Sequence[CaseRun]]
) -> Conclusion:
    """Each version's summary; with two versions, the candidate (second) against the
    baseline (first) case by case, and the verdict."""
    summaries = [
        {"version_id": v, **_plain(summarize(runs.get(v, ()), names))} for v in version_ids
    ]
    if len(version_ids) != 2:
        return Conclusion(summaries, None, None)
    baseline, candidate = version_ids
    found = compare(runs.get(baseline, ()), runs.get(candidate, ()), names)
    comparison = {"baseline": baseline, "candidate": candidate, **_plain(found)}
    return Conclusion(summaries, comparison, found.verdict)


@dataclass(frozen=True, slots=True)
class Report:
    """What the caller reports for one item: each ``reported`` evaluator's result (by name)
    and, for an evaluation without a provider, the item's answer (``output``, or ``error``
    when the caller's own run failed)."""

    item_id: int
    results: Mapping[str, Result] = field(default_factory=dict)
    output: str | None = None
    error: str | None = None
    latency_ms: float | None = None


def _interval(data: Mapping[str, Any] | None) -> Interval:
    data = data or {}
    return Interval(data.get("value"), data.get("low"), data.get("high"))


def summary_from_json(data: Mapping[str, Any]) -> VersionSummary:
    """A version's summary as an evaluation keeps it, read back (the gate's thresholds)."""
    return VersionSummary(
        cases=int(data.get("cases", 0)),
        failed_calls=int(data.get("failed_calls", 0)),
        evaluators=[
            EvaluatorSummary(
                name=str(e["name"]),
                n=int(e["n"]),
                passed=int(e["passed"]),
                errors=int(e["errors"]),
                pass_rate=_interval(e.get("pass_rate")),
                score_n=int(e.get("score_n", 0)),
                mean_score=_interval(e.get("mean_score")),
            )
            for e in data.get("evaluators", ())
        ],
        latency_p50_ms=data.get("latency_p50_ms"),
        latency_p95_ms=data.get("latency_p95_ms"),
        prompt_tokens=int(data.get("prompt_tokens", 0)),
        completion_tokens=int(data.get("completion_tokens", 0)),
        cost=data.get("cost"),
    )


# --- what a face asks ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartEvaluation:
    """Run ``version_ids`` of a prompt (the baseline first) on a test set's version (its
    newest by default), judged by ``evaluators`` (configurations, checked by
    ``evaluator_config.build_all``), through ``provider`` and ``model`` (no provider: the
    caller runs the versions and reports the outputs)."""

    prompt: str
    version_ids: tuple[int, ...]
    test_set: str
    evaluators: tuple[dict[str, Any], ...]
    provider: str | None = None
    model: str | None = None
    test_set_version: int | None = None
    idempotency_key: str | None = None

    def request(self) -> dict[str, Any]:
        """What an Idempotency-Key's hash covers."""
        return {
            "version_ids": list(self.version_ids),
            "test_set": self.test_set,
            "test_set_version": self.test_set_version,
            "evaluators": list(self.evaluators),
            "provider": self.provider,
            "model": self.model,
        }
