"""Evaluations (start one on a prompt, read it and its items, cancel it, report results) and
the gates of labels (docs/evaluations.md). Starting, cancelling and reporting need the write
role; reading, the read role; setting or removing a gate, the admin role."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from promptdeck import limits
from promptdeck.domain.evaluations import Evaluation, Item, Report, StartEvaluation
from promptdeck.domain.evaluators import Result
from promptdeck.domain.gates import Gate, GateCheck
from promptdeck.schemas import (
    EvaluationCreate,
    EvaluationItemOut,
    EvaluationOut,
    GateCheckOut,
    GateOut,
    GateSet,
    ItemReportIn,
    Page,
    ReportIn,
    ReportOut,
)
from promptdeck.server.api.labels import LabelName
from promptdeck.server.api.prompts import Cursor, Limit, PromptRef
from promptdeck.server.api.test_sets import EvaluationsDep
from promptdeck.server.deps import CanonicalId, IdempotencyKey
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingAdmin, ActingWriter, Reader

router = APIRouter(tags=["evaluations"], responses=responses(400, 413, 422))

EvaluationId = Annotated[
    int, Path(ge=1, le=limits.ID_MAX, description="The evaluation's id."), CanonicalId
]
VersionQuery = Annotated[int, Query(ge=1, le=limits.ID_MAX, description="The candidate version.")]


def evaluation_out(found: Evaluation) -> EvaluationOut:
    p = found.progress
    data: dict[str, Any] = {
        "id": found.id,
        "prompt_id": found.prompt_id,
        "prompt": found.prompt_name,
        "status": found.status,
        "progress": {
            "total": p.total,
            "done": p.done,
            "failed": p.failed,
            "reports_total": p.reports_total,
            "reports_done": p.reports_done,
            "fraction": p.fraction,
        },
        "version_ids": list(found.version_ids),
        "test_set": found.test_set,
        "test_set_version": found.test_set_version,
        "evaluators": list(found.evaluators),
        "provider": found.provider,
        "model": found.model,
        "summaries": None if found.summaries is None else list(found.summaries),
        "comparison": found.comparison,
        "verdict": found.verdict,
        "error": found.error,
        "created_at": found.created_at,
        "created_by": found.created_by,
        "started_at": found.started_at,
        "finished_at": found.finished_at,
        "cancelled_by": found.cancelled_by,
    }
    return EvaluationOut.model_validate(data)


def item_out(item: Item) -> EvaluationItemOut:
    return EvaluationItemOut.model_validate(
        {
            **{f: getattr(item, f) for f in Item.__dataclass_fields__ if f != "tool_calls"},
            "tool_calls": list(item.tool_calls),
            "results": list(item.results),
        }
    )


def gate_out(found: Gate) -> GateOut:
    return GateOut.model_validate(found)


def gate_check_out(found: GateCheck) -> GateCheckOut:
    return GateCheckOut.model_validate(found)


def report_of(body: ItemReportIn) -> Report:
    return Report(
        item_id=body.item_id,
        results={
            name: Result(
                r.passed if r.passed is not None else (r.score or 0) >= 0.5, r.score, r.reason
            )
            for name, r in body.results.items()
        },
        output=body.output,
        error=body.error,
        latency_ms=body.latency_ms,
    )


# --- evaluations ---------------------------------------------------------------------------------


@router.post(
    "/prompts/{prompt_id}/evaluations",
    status_code=202,
    response_model=EvaluationOut,
    responses=responses(404, 409),
    summary="Start an evaluation: versions run on a test set, judged by evaluators (queued; "
    "Location names it)",
)
def start_evaluation(
    prompt_id: PromptRef,
    body: EvaluationCreate,
    evaluations: EvaluationsDep,
    caller: ActingWriter,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EvaluationOut:
    started = evaluations.start_evaluation(
        StartEvaluation(
            prompt=prompt_id,
            version_ids=tuple(body.version_ids),
            test_set=body.test_set,
            evaluators=tuple(body.evaluators),
            provider=body.provider,
            model=body.model,
            test_set_version=body.test_set_version,
            idempotency_key=idempotency_key,
        ),
        caller,
    )
    response.headers["Location"] = f"/evaluations/{started.id}"
    return evaluation_out(started)


@router.get(
    "/prompts/{prompt_id}/evaluations",
    response_model=Page[EvaluationOut],
    responses=responses(404),
    summary="A prompt's evaluations, newest first",
)
def list_evaluations(
    prompt_id: PromptRef,
    evaluations: EvaluationsDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
    status: Annotated[
        Literal["queued", "running", "completed", "cancelled", "failed"] | None, Query()
    ] = None,
) -> Page[EvaluationOut]:
    page = evaluations.list_evaluations(
        prompt_id, caller, limit=limit, cursor=cursor, status=status
    )
    return Page[EvaluationOut](
        items=[evaluation_out(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/evaluations/{evaluation_id}",
    response_model=EvaluationOut,
    responses=responses(404),
    summary="An evaluation: status, progress, per-version summaries, the comparison and verdict",
)
def get_evaluation(
    evaluation_id: EvaluationId, evaluations: EvaluationsDep, caller: Reader
) -> EvaluationOut:
    return evaluation_out(evaluations.get_evaluation(evaluation_id, caller))


@router.get(
    "/evaluations/{evaluation_id}/items",
    response_model=Page[EvaluationItemOut],
    responses=responses(404),
    summary="Per case and version: the answer and each evaluator's result, in order",
)
def list_items(
    evaluation_id: EvaluationId,
    evaluations: EvaluationsDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
    version_id: Annotated[int | None, Query(ge=1, le=limits.ID_MAX)] = None,
    status: Annotated[Literal["pending", "done", "failed"] | None, Query()] = None,
    awaiting: Annotated[
        bool,
        Query(
            description="Only the items the caller still has to report: without a provider "
            "the pending ones, with one those answered without a reported result yet."
        ),
    ] = False,
) -> Page[EvaluationItemOut]:
    page = evaluations.list_items(
        evaluation_id,
        caller,
        limit=limit,
        cursor=cursor,
        version_id=version_id,
        status=status,
        awaiting=awaiting,
    )
    return Page[EvaluationItemOut](
        items=[item_out(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/evaluations/{evaluation_id}/cancel",
    response_model=EvaluationOut,
    responses=responses(404, 409),
    summary="Cancel: nothing more is claimed; cases out finish and are recorded",
)
def cancel_evaluation(
    evaluation_id: EvaluationId, evaluations: EvaluationsDep, caller: ActingWriter
) -> EvaluationOut:
    return evaluation_out(evaluations.cancel_evaluation(evaluation_id, caller))


@router.post(
    "/evaluations/{evaluation_id}/results",
    response_model=ReportOut,
    responses=responses(404, 409),
    summary="Report results of 'reported' evaluators (and, without a provider, the answers)",
)
def report_results(
    evaluation_id: EvaluationId, body: ReportIn, evaluations: EvaluationsDep, caller: ActingWriter
) -> ReportOut:
    done = evaluations.report_results(evaluation_id, [report_of(r) for r in body.results], caller)
    return ReportOut(
        recorded=done.recorded,
        ignored=done.ignored,
        pending=done.pending,
        evaluation=evaluation_out(evaluations.get_evaluation(evaluation_id, caller)),
    )


# --- gates ---------------------------------------------------------------------------------------


@router.get(
    "/prompts/{prompt_id}/gates",
    response_model=list[GateOut],
    responses=responses(404),
    summary="The prompt's gates, by label",
)
def list_gates(prompt_id: PromptRef, evaluations: EvaluationsDep, caller: Reader) -> list[GateOut]:
    return [gate_out(g) for g in evaluations.list_gates(prompt_id, caller)]


@router.put(
    "/prompts/{prompt_id}/labels/{label}/gate",
    response_model=GateOut,
    responses=responses(403, 404),
    summary="Require a candidate to pass a test set before this label moves (admin)",
)
def set_gate(
    prompt_id: PromptRef,
    label: LabelName,
    body: GateSet,
    evaluations: EvaluationsDep,
    caller: ActingAdmin,
) -> GateOut:
    return gate_out(
        evaluations.set_gate(prompt_id, label, body.test_set, dict(body.thresholds), caller)
    )


@router.get(
    "/prompts/{prompt_id}/labels/{label}/gate",
    response_model=GateOut,
    responses=responses(404),
    summary="The label's gate",
)
def get_gate(
    prompt_id: PromptRef, label: LabelName, evaluations: EvaluationsDep, caller: Reader
) -> GateOut:
    return gate_out(evaluations.get_gate(prompt_id, label, caller))


@router.delete(
    "/prompts/{prompt_id}/labels/{label}/gate",
    status_code=204,
    responses=responses(403, 404),
    summary="Remove the label's gate (admin)",
)
def remove_gate(
    prompt_id: PromptRef, label: LabelName, evaluations: EvaluationsDep, caller: ActingAdmin
) -> Response:
    evaluations.remove_gate(prompt_id, label, caller)
    return Response(status_code=204)


@router.get(
    "/prompts/{prompt_id}/labels/{label}/gate/check",
    response_model=GateCheckOut,
    responses=responses(404),
    summary="Whether a version may go to the label now (what a deploy request would meet)",
)
def check_gate(
    prompt_id: PromptRef,
    label: LabelName,
    version_id: VersionQuery,
    evaluations: EvaluationsDep,
    caller: Reader,
) -> GateCheckOut:
    return gate_check_out(evaluations.check_gate(prompt_id, label, version_id, caller))
