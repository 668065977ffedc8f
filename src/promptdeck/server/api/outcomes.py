"""POST /outcomes (applications report how calls went), /prompts/{prompt_id}/impact (what
those outcomes say about each version and label period), per-label alerts, and the kept raw
outcomes read back (/prompts/{prompt_id}/outcomes)."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from promptdeck import limits
from promptdeck.domain import rules, values
from promptdeck.domain.commands import RemoveAlert
from promptdeck.domain.impact import AlertRule, ImpactReport, RawOutcomes, Summary
from promptdeck.domain.labels import LABEL_MAX, LABEL_REGEX
from promptdeck.errors import InvalidInput
from promptdeck.schemas import (
    AlertOut,
    AlertSet,
    ComparisonOut,
    ImpactOut,
    IntervalOut,
    IsoDatetime,
    MarkOut,
    OutcomesIn,
    OutcomesOut,
    PeriodImpactOut,
    RawOutcomeOut,
    RawOutcomesOut,
    SeriesPointOut,
    SpanOut,
    VersionImpactOut,
)
from promptdeck.server.api.labels import LabelName
from promptdeck.server.api.prompts import Limit, PromptRef
from promptdeck.server.api.render import json_response
from promptdeck.server.deps import RegistryDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingWriter, Reader

router = APIRouter(tags=["impact"], responses=responses(400, 422))

When = Annotated[IsoDatetime | None, Query(description="ISO 8601 UTC; minutes are whole.")]
# Raw outcomes are ordered by time, then id: their cursor holds both (domain/rules.py).
TimeCursor = Annotated[
    str | None,
    Query(
        max_length=limits.CURSOR_MAX,
        json_schema_extra={"pattern": rules.TIME_CURSOR_PATTERN},
        description="next_cursor of the previous page.",
    ),
]
# ?compare=A,B: two version ids (spaces around them are read too); the document's pattern.
COMPARE_REGEX = f"^ *({values.ID_REGEX}) *, *({values.ID_REGEX}) *$"
_COMPARE = re.compile(COMPARE_REGEX, re.ASCII)


def parse_compare(text: str | None) -> tuple[int, int] | None:
    """``A,B``: two version ids."""
    if text is None:
        return None
    match = _COMPARE.fullmatch(text)
    if match is None:
        raise InvalidInput("compare is two version ids: A,B", field="compare")
    return int(match.group(1)), int(match.group(2))


def _summary(s: Summary) -> dict[str, Any]:
    return {
        "count": s.count,
        "success_n": s.success_n,
        "success_rate": s.success_rate.value,
        "success_rate_ci": IntervalOut.model_validate(s.success_rate),
        "score_n": s.score_n,
        "mean_score": s.mean_score.value,
        "mean_score_ci": IntervalOut.model_validate(s.mean_score),
        "latency_p50_ms": s.latency_p50_ms,
        "latency_p95_ms": s.latency_p95_ms,
        "mean_latency_ms": s.mean_latency_ms,
        "input_tokens": s.input_tokens,
        "output_tokens": s.output_tokens,
        "cost": s.cost,
        "feedback_up": s.feedback_up,
        "feedback_down": s.feedback_down,
    }


def impact_out(report: ImpactReport) -> ImpactOut:
    return ImpactOut(
        prompt_id=report.prompt_id,
        prompt_name=report.prompt_name,
        label=report.label,
        since=report.since,
        until=report.until,
        versions=[
            VersionImpactOut(
                version_id=v.version_id,
                number=v.number,
                version_name=v.version_name,
                periods=[SpanOut.model_validate(s) for s in v.periods],
                **_summary(v.summary),
            )
            for v in report.versions
        ],
        periods=[
            PeriodImpactOut(
                label=p.span.label,
                version_id=p.span.version_id,
                start=p.span.start,
                end=p.span.end,
                move_id=p.move_id,
                actor=p.actor,
                reason=p.reason,
                **_summary(p.summary),
            )
            for p in report.periods
        ],
        compare=list(report.compare) if report.compare else None,
        comparisons=[ComparisonOut.model_validate(asdict(c)) for c in report.comparisons],
        series_minutes=report.series_minutes,
        series=[SeriesPointOut.model_validate(p) for p in report.series],
        marks=[MarkOut.model_validate(m) for m in report.marks],
    )


@router.post(
    "/outcomes",
    response_model=OutcomesOut,
    responses=responses(413, 429),
    summary="Report outcomes of calls, in batches (all counted, or none; write role)",
)
def report_outcomes(body: OutcomesIn, registry: RegistryDep, caller: ActingWriter) -> Response:
    done = registry.report_outcomes(body.to_command(), caller)
    return json_response(OutcomesOut(accepted=done.accepted, alerts=done.alerts))


@router.get(
    "/prompts/{prompt_id}/impact",
    response_model=ImpactOut,
    responses=responses(404),
    summary="Per version and label period: counts, rates and scores with 95% intervals, "
    "latency, tokens, cost; ?compare=A,B tests B against A",
)
def get_impact(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: Reader,
    since: When = None,
    until: When = None,
    label: Annotated[
        str | None,
        Query(
            max_length=LABEL_MAX,
            json_schema_extra={"pattern": LABEL_REGEX},
            description="Periods of this label (default: active).",
        ),
    ] = None,
    compare: Annotated[
        str | None,
        Query(
            max_length=40,
            json_schema_extra={"pattern": COMPARE_REGEX},
            description="Two version ids, A,B: is B better?",
        ),
    ] = None,
) -> Response:
    pair = parse_compare(compare)
    report = registry.impact(prompt_id, caller, since=since, until=until, label=label, compare=pair)
    return json_response(impact_out(report))


def alert_out(rule: AlertRule) -> AlertOut:
    return AlertOut.model_validate(rule)


@router.get(
    "/prompts/{prompt_id}/alerts",
    response_model=list[AlertOut],
    responses=responses(404),
    summary="The prompt's impact alert thresholds, by label",
)
def list_alerts(prompt_id: PromptRef, registry: RegistryDep, caller: Reader) -> list[AlertOut]:
    return [alert_out(r) for r in registry.list_alerts(prompt_id, caller)]


@router.put(
    "/prompts/{prompt_id}/alerts/{label}",
    response_model=AlertOut,
    responses=responses(404),
    summary="Alert when success after a move of the label falls below a threshold",
)
def set_alert(
    prompt_id: PromptRef,
    label: LabelName,
    body: AlertSet,
    registry: RegistryDep,
    caller: ActingWriter,
) -> AlertOut:
    return alert_out(registry.set_alert(body.to_command(prompt_id, label), caller))


@router.delete(
    "/prompts/{prompt_id}/alerts/{label}",
    status_code=204,
    responses=responses(404),
    summary="Remove the label's alert",
)
def remove_alert(
    prompt_id: PromptRef, label: LabelName, registry: RegistryDep, caller: ActingWriter
) -> Response:
    registry.remove_alert(RemoveAlert(prompt_id, label), caller)
    return Response(status_code=204)


def raw_outcomes_out(page: RawOutcomes) -> RawOutcomesOut:
    return RawOutcomesOut(
        items=[RawOutcomeOut.model_validate(o) for o in page.items],
        next_cursor=page.next_cursor,
        kept=page.kept,
        days=page.days,
    )


@router.get(
    "/prompts/{prompt_id}/outcomes",
    response_model=RawOutcomesOut,
    responses=responses(404),
    summary="The prompt's kept raw outcomes, newest first (kept only with "
    "PROMPTDECK_OUTCOMES_RAW; kept and days say so)",
)
def list_outcomes(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: Reader,
    version_id: Annotated[
        int | None, Query(ge=1, le=limits.ID_MAX, description="Only this version's outcomes.")
    ] = None,
    since: Annotated[IsoDatetime | None, Query(description="At or after (ISO 8601).")] = None,
    until: Annotated[
        IsoDatetime | None, Query(description="Before (ISO 8601); not before since.")
    ] = None,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: TimeCursor = None,
) -> Response:
    page = registry.list_outcomes(
        prompt_id,
        caller,
        version_id=version_id,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return json_response(raw_outcomes_out(page))
