"""Test sets, evaluations, their results and gates (issue 25; docs/evaluations.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, field_validator, model_validator

from promptdeck import limits
from promptdeck.domain import test_sets
from promptdeck.domain.test_sets import Case
from promptdeck.schemas.common import Description, Text, _In, _Out
from promptdeck.schemas.outcomes import IntervalOut

TestSetName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=limits.TEST_SET_NAME_MAX,
        pattern=test_sets.NAME_RE.pattern,
        description="A slug: a-z, 0-9, '.', '_', '-'.",
    ),
]
VersionId = Annotated[int, Field(ge=1, le=limits.ID_MAX)]


# --- test sets -------------------------------------------------------------------------------


class CaseIn(_In):
    variables: dict[str, Any] = Field(
        default_factory=dict, description="What the prompt is rendered with."
    )
    expected: Any = Field(
        None, description="What the answer should be (equals compares with it; any JSON)."
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free; judges see it.")


class CasesImport(_In):
    format: Literal["jsonl", "csv"] = Field(description="jsonl: a case a line; csv: see docs.")
    data: str = Field(max_length=limits.TEST_SET_IMPORT_MAX_CHARS)


class _Cases(_In):
    """Cases given as a list, or as the text of a JSONL or CSV file (``import``)."""

    cases: list[CaseIn] | None = Field(None, max_length=limits.TEST_SET_ADD_MAX)
    import_: CasesImport | None = Field(None, alias="import")

    @model_validator(mode="after")
    def _one_source(self) -> Any:
        if (self.cases is None) == (self.import_ is None):
            raise ValueError("give cases, or import (format and data), not both")
        self.to_cases()  # refused here, naming the case and field, before anything runs
        return self

    def to_cases(self) -> list[Case]:
        if self.import_ is not None:
            return test_sets.parse_cases(self.import_.data, self.import_.format, "import.data")
        return test_sets.check_cases([c.model_dump() for c in self.cases or ()])


class TestSetCreate(_Cases):
    __test__ = False  # not a pytest class
    name: TestSetName
    prompt: str = Field(min_length=1, max_length=limits.PROMPT_NAME_MAX, description="Id or name.")
    description: Description = ""
    version_description: Description = Field("", description="What version 1 holds.")


class CasesAdd(_Cases):
    description: Description = Field("", description="What the new version adds.")


class TestSetVersionOut(_Out):
    __test__ = False
    number: int
    case_count: int = Field(description="Cases in this version, in all.")
    added: int = Field(description="Cases this version added.")
    description: str
    created_at: datetime
    created_by: str


class TestSetOut(_Out):
    __test__ = False
    id: int
    name: str
    prompt_id: int
    prompt: str = Field(description="The prompt's name.")
    description: str
    version: int = Field(description="The newest version's number.")
    case_count: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    versions: list[TestSetVersionOut] = Field(
        description="Newest first (the newest 100; empty in lists)."
    )


class TestCaseOut(_Out):
    __test__ = False
    id: int
    position: int = Field(description="1, 2, 3… in the set.")
    added_in: int = Field(description="The set's version that added it.")
    variables: dict[str, Any]
    expected: Any
    metadata: dict[str, Any]


# --- evaluations ------------------------------------------------------------------------------


class EvaluationCreate(_In):
    version_ids: list[VersionId] = Field(
        min_length=1,
        max_length=limits.EVALUATION_VERSIONS_MAX,
        description="The baseline first, the candidate second (two: a paired comparison).",
    )
    test_set: TestSetName
    test_set_version: int | None = Field(
        None, ge=1, le=limits.ID_MAX, description="Default: the set's newest version."
    )
    evaluators: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=20,
        description='Each {"type": …} with its settings (docs/evaluations.md, "Evaluators").',
    )
    provider: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="The provider that runs the versions; none: the caller reports the "
        "outputs (client.evaluate).",
    )
    model: Text | None = Field(None, min_length=1, max_length=200)

    @field_validator("version_ids")
    @classmethod
    def _different(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("lists a version twice")
        return value


class ProgressOut(_Out):
    total: int = Field(description="Items: versions x cases.")
    done: int = Field(description="Items worked (answered or failed).")
    failed: int = Field(description="Items whose call gave no answer.")
    reports_total: int = Field(description="Results reported evaluators are to give.")
    reports_done: int
    fraction: float = Field(description="Of all there is to do, 0 to 1.")


class EvaluatorSummaryOut(_Out):
    name: str
    n: int = Field(description="Cases judged (errors left out).")
    passed: int
    errors: int
    pass_rate: IntervalOut = Field(description="Of the cases judged, with its 95% Wilson interval.")
    score_n: int
    mean_score: IntervalOut = Field(description="With its 95% t interval.")


class EvaluationSummaryOut(_Out):
    version_id: int
    cases: int
    failed_calls: int
    evaluators: list[EvaluatorSummaryOut]
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cost: float | None


class PairedComparisonOut(_Out):
    evaluator: str
    measure: Literal["pass_rate", "score"]
    pairs: int = Field(description="Cases judged on both versions.")
    a: float | None = Field(description="The baseline's pass rate or mean score on them.")
    b: float | None = Field(description="The candidate's.")
    test: str = Field(description="mcnemar_exact, wilcoxon or none.")
    p_value: float | None
    verdict: str
    a_only: int = Field(description="Pass/fail: cases only the baseline passed.")
    b_only: int
    p_adjusted: float | None = Field(description="Holm's, over every evaluator's pass/fail test.")


class EvaluationComparisonOut(_Out):
    baseline: int
    candidate: int
    verdict: Literal["better", "worse", "inconclusive"]
    reason: str
    cases: int = Field(description="Cases run on both versions.")
    errors: dict[str, int] = Field(description="Per evaluator: pairs left out (an error).")
    comparisons: list[PairedComparisonOut]


class EvaluationOut(_Out):
    id: int
    prompt_id: int
    prompt: str
    status: Literal["queued", "running", "completed", "cancelled", "failed"]
    progress: ProgressOut
    version_ids: list[int]
    test_set: str
    test_set_version: int
    evaluators: list[dict[str, Any]] = Field(
        description="As configured, each named; a judge's rubric fixed to one version."
    )
    provider: str | None
    model: str | None
    summaries: list[EvaluationSummaryOut] | None = Field(description="Once completed.")
    comparison: EvaluationComparisonOut | None = Field(
        description="Once completed, with two versions: the candidate against the baseline."
    )
    verdict: Literal["better", "worse", "inconclusive"] | None
    error: str | None = Field(description="Why it failed.")
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_by: str | None


class ToolCallOut(_Out):
    id: str
    name: str
    arguments: str = Field(description="As the model wrote them (JSON when it did it right).")


class UsageOut(_Out):
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None


class ResultOut(_Out):
    evaluator: str
    passed: bool
    score: float | None
    reason: str
    error: bool = Field(description="Could not judge: not passed, left out of comparisons.")


class EvaluationItemOut(_Out):
    id: int
    version_id: int
    case_id: int
    position: int = Field(description="The case's position in the set.")
    status: Literal["pending", "done", "failed"]
    attempts: int = Field(description="Claims (more than one: a lease ran out).")
    variables: dict[str, Any]
    expected: Any
    metadata: dict[str, Any]
    output: str | None
    tool_calls: list[ToolCallOut]
    latency_ms: float | None
    usage: UsageOut | None
    cost: float | None
    error: str | None
    finished_at: datetime | None
    results: list[ResultOut]


class ResultIn(_In):
    passed: StrictBool | None = Field(None, description="Default: score >= 0.5.")
    score: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    reason: Text = Field("", max_length=1000)

    @model_validator(mode="after")
    def _something(self) -> Any:
        if self.passed is None and self.score is None:
            raise ValueError("give passed, score, or both")
        return self


class ItemReportIn(_In):
    item_id: VersionId
    results: dict[Annotated[str, Field(min_length=1, max_length=64)], ResultIn] = Field(
        default_factory=dict, description="By reported evaluator name."
    )
    output: Text | None = Field(
        None,
        max_length=limits.EVALUATION_OUTPUT_KEEP,
        description="Without a provider: the item's answer (once).",
    )
    error: Text | None = Field(
        None, max_length=1000, description="Without a provider: why the caller's run failed."
    )
    latency_ms: float | None = Field(None, ge=0, le=86_400_000, allow_inf_nan=False)


class ReportIn(_In):
    results: list[ItemReportIn] = Field(min_length=1, max_length=limits.EVALUATION_REPORT_MAX)


class ReportOut(_Out):
    recorded: int = Field(description="Results recorded now.")
    ignored: int = Field(description="Results already there (the first one counts).")
    pending: list[int] = Field(description="Items whose answer is not in yet: report later.")
    evaluation: EvaluationOut


# --- gates ---------------------------------------------------------------------------------------


class GateSet(_In):
    test_set: TestSetName
    thresholds: dict[
        Annotated[str, Field(min_length=1, max_length=64)],
        Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)],
    ] = Field(
        default_factory=dict,
        max_length=limits.GATE_THRESHOLDS_MAX,
        description="Per evaluator name, the least pass rate the candidate needs (errors "
        "count as not passed).",
    )


class GateOut(_Out):
    prompt_id: int
    label: str
    test_set: str
    thresholds: dict[str, float]
    created_at: datetime
    created_by: str


class GateCheckOut(_Out):
    label: str
    version_id: int
    required: bool = Field(description="The label has a gate.")
    passed: bool
    test_set: str | None
    test_set_version: int | None = Field(description="The set's newest version: it counts.")
    baseline_id: int | None = Field(description="What the label serves now.")
    evaluation_id: int | None = Field(description="The evaluation the decision read.")
    verdict: str | None
    reasons: list[str] = Field(description="Why it does not pass (empty when it does).")
