"""Evaluations in the web UI (docs/evaluations.md): a prompt's evaluations with the form that
starts one, and an evaluation's page (status, progress while it runs, each version's summary,
the comparison and its verdict, the items page by page, cancel). What the page shows is
formatted in ``evaluation_view``; the template lays it out."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from promptdeck import errors, limits
from promptdeck.core.evaluating import Evaluations
from promptdeck.domain.caller import Caller
from promptdeck.domain.evaluations import LIVE, StartEvaluation
from promptdeck.schemas import EvaluationCreate
from promptdeck.server.api.test_sets import EvaluationsDep
from promptdeck.server.deps import CanonicalId, RegistryDep
from promptdeck.server.html import render
from promptdeck.server.respond import message_of, status_for
from promptdeck.server.roles import Reader, Writer
from promptdeck.server.ui import evaluation_view as view
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

PAGE_SIZE = 20
ITEMS_PAGE = 50
REFRESH_S = 2  # how often a running evaluation's page reloads itself
EvaluationId = Annotated[int, Path(ge=1, le=limits.ID_MAX), CanonicalId]
Cursor = Annotated[str | None, Query(max_length=200)]
Text = Annotated[str, Form(max_length=1000)]
EvaluatorsText = Annotated[str, Form(max_length=64_000)]
DEFAULT_EVALUATORS = (
    '[\n  {"type": "contains", "value": "refund"},\n  {"type": "length", "max": 2000}\n]'
)


def evaluators_of(text: str) -> list[Any]:
    """The form's evaluators: a JSON array of objects (one object alone is a list of one)."""
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):
        raise errors.InvalidInput(
            'not JSON: write an array like [{"type": "contains", "value": "refund"}]',
            field="evaluators",
        ) from None
    return [found] if isinstance(found, dict) else found


def target_of(text: str) -> tuple[str | None, str | None]:
    """``provider:model`` from the form's choice; empty: the caller reports the answers.
    A provider's name is a slug (no ':'), so the first ':' splits it from the model."""
    if not text.strip():
        return None, None
    provider, _, model = text.strip().partition(":")
    return provider, model or None


@router.get("/prompts/{name}/evaluations", response_class=HTMLResponse)
def evaluations_page(
    request: Request,
    registry: RegistryDep,
    evaluations: EvaluationsDep,
    caller: Reader,
    name: str,
    cursor: Cursor = None,
    test_set: Annotated[str, Query(max_length=limits.TEST_SET_NAME_MAX)] = "",
    baseline: Annotated[int | None, Query(ge=1, le=limits.ID_MAX)] = None,
    candidate: Annotated[int | None, Query(ge=1, le=limits.ID_MAX)] = None,
) -> HTMLResponse:
    """``?test_set=&baseline=&candidate=`` fill the form in (the deploy request's link)."""
    chosen = {"baseline": baseline, "candidate": candidate}
    form = {"test_set": test_set, **{k: str(v) for k, v in chosen.items() if v is not None}}
    return _page(request, registry, evaluations, caller, name, cursor, form=form)


def _page(
    request: Request,
    registry: RegistryDep,
    evaluations: Evaluations,
    caller: Caller,
    name: str,
    cursor: str | None,
    *,
    form: dict[str, str],
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    page = evaluations.list_evaluations(name, caller, limit=PAGE_SIZE, cursor=cursor)
    versions = registry.list_versions(name, caller, limit=limits.PAGE_LIMIT_MAX).items
    sets = evaluations.list_test_sets(caller, prompt=name, limit=limits.PAGE_LIMIT_MAX).items
    numbers = {v.id: v.number for v in versions}
    active = next((v.id for v in versions if v.active), None)
    newest = versions[0].id if versions else None
    defaults = {
        "baseline": str(active) if active is not None and active != newest else "",
        "candidate": str(newest or ""),
        "test_set": sets[0].name if sets else "",
        "evaluators": DEFAULT_EVALUATORS,
        "target": "",
    }
    return render(
        request,
        "evaluations.html",
        status,
        name=name,
        rows=[view.row(e, numbers) for e in page.items],
        next_cursor=page.next_cursor,
        cursor=cursor,
        versions=[v for v in versions if not v.purged],
        sets=sets,
        targets=[
            (f"{p.name}:{m}", f"{p.name} · {m}")
            for p in evaluations.list_providers(caller)
            for m in p.config.models
        ],
        form=defaults | {k: v for k, v in form.items() if v},
        error=error,
    )


@router.post("/prompts/{name}/evaluations", response_class=HTMLResponse)
def start(
    request: Request,
    registry: RegistryDep,
    evaluations: EvaluationsDep,
    caller: Writer,
    name: str,
    candidate: Text = "",
    baseline: Text = "",
    test_set: Text = "",
    evaluators: EvaluatorsText = "",
    target: Text = "",
    actor: Text = "",
) -> Response:
    typed = {
        "baseline": baseline,
        "candidate": candidate,
        "test_set": test_set,
        "evaluators": evaluators,
        "target": target,
    }
    try:
        provider, model = target_of(target)
        body = EvaluationCreate.model_validate(
            {
                "version_ids": [v.strip() for v in (baseline, candidate) if v.strip()],
                "test_set": test_set.strip(),
                "evaluators": evaluators_of(evaluators),
                "provider": provider,
                "model": model,
            }
        )
        started = evaluations.start_evaluation(
            StartEvaluation(
                prompt=name,
                version_ids=tuple(body.version_ids),
                test_set=body.test_set,
                evaluators=tuple(body.evaluators),
                provider=body.provider,
                model=body.model,
            ),
            acting(request, caller, actor),
        )
    except (errors.PromptdeckError, ValidationError) as exc:
        if isinstance(exc, errors.PromptNotFound):
            raise
        return _page(
            request,
            registry,
            evaluations,
            caller,
            name,
            None,
            form=typed,
            status=status_for(exc),
            error=message_of(exc),
        )
    return remember_actor(redirect(f"/ui/evaluations/{started.id}", done="started"), actor)


@router.get("/evaluations/{evaluation_id}", response_class=HTMLResponse)
def evaluation_page(
    request: Request,
    registry: RegistryDep,
    evaluations: EvaluationsDep,
    caller: Reader,
    evaluation_id: EvaluationId,
    cursor: Cursor = None,
    version_id: Annotated[int | None, Query(ge=1, le=limits.ID_MAX)] = None,
    status: Annotated[Literal["pending", "done", "failed"] | None, Query()] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    found = evaluations.get_evaluation(evaluation_id, caller)
    items = evaluations.list_items(
        evaluation_id,
        caller,
        limit=ITEMS_PAGE,
        cursor=cursor,
        version_id=version_id,
        status=status,
    )
    versions = registry.list_versions(found.prompt_name, caller, limit=limits.PAGE_LIMIT_MAX)
    numbers = {v.id: v.number for v in versions.items}
    live = found.status in LIVE
    # The reload keeps the page's filters, not its one-time notice.
    again = {k: v for k, v in request.query_params.items() if k != "done"}
    notice = {"started": "Evaluation started.", "cancelled": "Evaluation cancelled."}.get(done)
    return render(
        request,
        "evaluation.html",
        ev=view.row(found, numbers),
        summaries=view.summaries(found, numbers),
        comparison=view.comparison(found, numbers),
        items=[view.item(i, numbers) for i in items.items],
        evaluator_names=view.names(found),
        next_cursor=items.next_cursor,
        cursor=cursor,
        filters={"version_id": version_id, "status": status},
        keep={k: v for k, v in (("version_id", version_id), ("status", status)) if v},
        refresh=REFRESH_S if live else None,
        refresh_url=request.url.path + (f"?{urlencode(again)}" if again else ""),
        live=live,
        notice=notice,
    )


@router.post("/evaluations/{evaluation_id}/cancel", response_class=HTMLResponse)
def cancel(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Writer,
    evaluation_id: EvaluationId,
    actor: Text = "",
) -> Response:
    evaluations.cancel_evaluation(evaluation_id, acting(request, caller, actor))
    target = redirect(f"/ui/evaluations/{evaluation_id}", done="cancelled")
    return remember_actor(target, actor)
