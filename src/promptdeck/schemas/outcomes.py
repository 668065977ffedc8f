"""Outcomes, impact and alert rules (docs/impact.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)

from promptdeck import limits
from promptdeck.domain.commands import Outcome, ReportOutcomes, SetAlert
from promptdeck.schemas.common import Page, Text, _In, _Out


def _no_bool(value: object) -> object:
    """JSON true/false is not a number (pydantic would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("a number, not true or false")
    return value


_NoBool = BeforeValidator(_no_bool)
Number_ = Annotated[float, _NoBool]


Count_ = Annotated[int, BeforeValidator(_no_bool)]


TagKey = Annotated[Text, Field(min_length=1, max_length=limits.OUTCOME_TAG_KEY_MAX)]


TagValue = Annotated[Text, Field(max_length=limits.OUTCOME_TAG_VALUE_MAX)]


class OutcomeIn(_In):
    """One call of a prompt version and how it went; every measure is optional."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, protected_namespaces=())

    prompt_id: Annotated[
        # The id's range is documented here and checked below (its message says what an id is).
        Annotated[int, Field(json_schema_extra={"minimum": 1, "maximum": limits.ID_MAX})]
        | Annotated[Text, Field(min_length=1, max_length=limits.PROMPT_NAME_MAX)],
        BeforeValidator(_no_bool),
    ] = Field(description="The prompt's id or name.", examples=["support-reply"])
    version_id: Count_ = Field(ge=1, le=limits.ID_MAX, description="The version that was used.")
    success: StrictBool | None = Field(
        default=None, description="Whether the call went well: JSON true or false only."
    )
    # Bounds before the validator: after it (on "X | None") pydantic wrote them as ge/le,
    # which JSON Schema does not know, so the document allowed any number.
    score: Annotated[float, Field(ge=0, le=1), _NoBool] | None = Field(
        default=None, description="A quality score, 0..1."
    )
    latency_ms: Annotated[float, Field(ge=0, le=limits.OUTCOME_LATENCY_MS_MAX), _NoBool] | None = (
        None
    )
    input_tokens: Annotated[int, Field(ge=0, le=limits.OUTCOME_TOKENS_MAX), _NoBool] | None = None
    output_tokens: Annotated[int, Field(ge=0, le=limits.OUTCOME_TOKENS_MAX), _NoBool] | None = None
    cost: Annotated[float, Field(ge=0, le=limits.OUTCOME_COST_MAX), _NoBool] | None = None
    feedback: Literal[1, -1] | None = Field(default=None, description="User feedback: +1 or -1.")
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, max_length=limits.OUTCOME_TAGS_MAX, description="A few free tags."
    )
    at: AwareDatetime | None = Field(
        default=None,
        description="When the call happened (default: when the server receives it); at most "
        f"{limits.OUTCOME_PAST_DAYS_MAX} days old and {limits.OUTCOME_FUTURE_S_MAX} s ahead.",
    )

    @field_validator("prompt_id")
    @classmethod
    def _id_in_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= limits.ID_MAX:
            raise ValueError(f"an id is 1 to {limits.ID_MAX}")
        return value


class OutcomesIn(_In):
    outcomes: list[OutcomeIn] = Field(
        min_length=1,
        max_length=limits.OUTCOMES_BATCH_MAX,
        description=f"1 to {limits.OUTCOMES_BATCH_MAX} outcomes; one bad item refuses the batch.",
    )

    def to_command(self) -> ReportOutcomes:
        return ReportOutcomes(
            [
                Outcome(
                    prompt=str(o.prompt_id),
                    version_id=o.version_id,
                    success=o.success,
                    score=o.score,
                    latency_ms=o.latency_ms,
                    input_tokens=o.input_tokens,
                    output_tokens=o.output_tokens,
                    cost=o.cost,
                    feedback=o.feedback,
                    tags=o.tags,
                    at=o.at,
                )
                for o in self.outcomes
            ]
        )


class OutcomesOut(BaseModel):
    accepted: int
    alerts: int = Field(description="impact.alert events this batch raised.")


class IntervalOut(_Out):
    value: float | None
    low: float | None = Field(description="95% confidence interval, lower bound.")
    high: float | None


class SummaryOut(_Out):
    count: int
    success_n: int = Field(description="Outcomes that reported success or failure.")
    success_rate: float | None
    success_rate_ci: IntervalOut = Field(description="Wilson score interval.")
    score_n: int
    mean_score: float | None
    mean_score_ci: IntervalOut = Field(description="Student t interval.")
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    mean_latency_ms: float | None
    input_tokens: int
    output_tokens: int
    cost: float
    feedback_up: int
    feedback_down: int


class SpanOut(_Out):
    label: str
    version_id: int
    start: datetime
    end: datetime | None = Field(description="None: it still serves this version.")


class VersionImpactOut(SummaryOut):
    version_id: int
    number: int | None
    version_name: str | None
    periods: list[SpanOut] = Field(description="When the label served this version.")


class PeriodImpactOut(SummaryOut):
    label: str
    version_id: int
    start: datetime
    end: datetime | None
    move_id: int
    actor: str
    reason: str


class ComparisonOut(_Out):
    measure: str
    a: float | None
    b: float | None
    verdict: Literal["better", "worse", "inconclusive"] = Field(
        description="B against A at the 5% level."
    )
    test: str = Field(description="chi2_contingency, fisher_exact, welch_t, or none.")
    p_value: float | None
    higher_is_better: bool


class SeriesPointOut(_Out):
    start: datetime
    count: int
    success_n: int
    success_rate: float | None
    score_n: int
    mean_score: float | None


class MarkOut(_Out):
    at: datetime
    kind: str
    label: str
    version_id: int | None
    from_version_id: int | None
    detail: dict[str, Any] = Field(description="The event's detail (an alert's numbers).")


class ImpactOut(_Out):
    prompt_id: int
    prompt_name: str
    label: str
    since: datetime | None
    until: datetime | None
    versions: list[VersionImpactOut]
    periods: list[PeriodImpactOut]
    compare: list[int] | None = Field(default=None, description="[A, B] of ?compare=A,B.")
    comparisons: list[ComparisonOut] = Field(default_factory=list)
    series_minutes: int = Field(description="Minutes each series point covers.")
    series: list[SeriesPointOut]
    marks: list[MarkOut] = Field(description="Activations, rollbacks, label moves, alerts.")


class AlertSet(_In):
    min_success: Number_ = Field(ge=0, le=1, allow_inf_nan=False, examples=[0.9])
    window_minutes: Count_ = Field(default=15, ge=1, le=limits.ALERT_WINDOW_MINUTES_MAX)
    min_count: Count_ = Field(default=20, ge=1, le=limits.ALERT_MIN_COUNT_MAX)

    def to_command(self, prompt: str, label: str) -> SetAlert:
        return SetAlert(prompt, label, self.min_success, self.window_minutes, self.min_count)


class AlertOut(_Out):
    label: str
    min_success: float
    window_minutes: int
    min_count: int
    created_at: datetime | None = Field(default=None, description="When it was last set.")
    created_by: str | None = Field(default=None, description="Who last set it.")


class RawOutcomeOut(_Out):
    id: int
    version_id: int
    at: datetime
    success: bool | None
    score: float | None
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None
    feedback: int | None
    tags: dict[str, str]


class RawOutcomesOut(Page[RawOutcomeOut]):
    """A page of raw outcomes, newest first by when they happened, with the server's raw
    outcome settings (an empty list is then no mystery)."""

    kept: bool = Field(
        description="Whether this server keeps raw outcomes (PROMPTDECK_OUTCOMES_RAW); when "
        "false the list holds at most what was kept before."
    )
    days: int = Field(
        description="How many days raw outcomes are kept (PROMPTDECK_OUTCOMES_RAW_DAYS); older "
        "ones are never listed."
    )
