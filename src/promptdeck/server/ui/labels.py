"""Labels in the web UI: the labels page (labels, open deploy requests, the deploy timeline),
the promote page (the diff a move will cause; move now or request it), and the deploy
request page (its diff; approve or reject)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from promptdeck.domain.commands import DecideDeploy, MoveLabel, ProposeDeploy
from promptdeck.limits import PAGE_LIMIT_MAX
from promptdeck.server.api.test_sets import EvaluationsDep
from promptdeck.server.deps import RegistryDep
from promptdeck.server.html import render
from promptdeck.server.roles import Reader, Writer
from promptdeck.server.ui.pages import changes
from promptdeck.server.ui.rollouts import NOTICES, card
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

Text = Annotated[str, Form()]
TIMELINE = 50
LABEL_NOTICES = {
    "moved": "Label moved.",
    "requested": "Deploy request sent.",
    "gate-set": "Gate set: a deploy request to that label now needs a passing evaluation.",
    "gate-removed": "Gate removed.",
}


@router.get("/prompts/{name}/labels", response_class=HTMLResponse)
def labels_page(
    request: Request,
    registry: RegistryDep,
    evaluations: EvaluationsDep,
    caller: Reader,
    name: str,
    done: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    labels = registry.list_labels(name, caller)
    return render(
        request,
        "labels.html",
        name=name,
        labels=labels,
        rollouts=[card(x.rollout) for x in labels if x.rollout is not None],
        versions=registry.list_versions(name, caller, limit=PAGE_LIMIT_MAX).items,
        requests=registry.list_deploys(name, caller, status="open").items,
        moves=registry.label_history(name, None, caller, limit=TIMELINE).items,
        gates={g.label: g for g in evaluations.list_gates(name, caller)},
        sets=evaluations.list_test_sets(caller, prompt=name, limit=PAGE_LIMIT_MAX).items,
        notice={**LABEL_NOTICES, **NOTICES}.get(done),
    )


@router.get("/prompts/{name}/promote", response_class=HTMLResponse)
def promote(
    request: Request,
    registry: RegistryDep,
    caller: Reader,
    name: str,
    label: Annotated[str, Query(min_length=1, max_length=64)],
    v: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> HTMLResponse:
    """What moving ``label`` to version ``v`` would change, with the move or request forms."""
    labels = {x.name: x for x in registry.list_labels(name, caller)}
    current = labels.get(label)
    target = registry.get_version(name, v, caller)
    serving = (
        registry.get_version(name, current.version_id, caller)
        if current is not None and current.version_id is not None
        else None
    )
    return render(
        request,
        "promote.html",
        name=name,
        label=label,
        current=current,
        serving=serving,
        target=target,
        **changes(serving or target, target),
    )


@router.post("/prompts/{name}/labels/{label}", response_class=HTMLResponse)
def move(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    label: str,
    version_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    etag: Text = "",
    reason: Text = "",
    actor: Text = "",
    accept_breaking: Text = "",
) -> Response:
    cmd = MoveLabel(
        name,
        label,
        version_id,
        reason or None,
        etag or None,
        accept_breaking=accept_breaking == "on",
    )
    registry.move_label(cmd, acting(request, caller, actor))
    return remember_actor(redirect(f"/ui/prompts/{name}/labels", done="moved"), actor)


@router.post("/prompts/{name}/deploy-requests", response_class=HTMLResponse)
def propose(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    label: Text,
    version_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    reason: Text = "",
    actor: Text = "",
) -> Response:
    cmd = ProposeDeploy(name, label, version_id, reason)
    created = registry.propose_deploy(cmd, acting(request, caller, actor))
    return remember_actor(redirect(f"/ui/prompts/{name}/deploy-requests/{created.id}"), actor)


@router.get("/prompts/{name}/deploy-requests/{request_id}", response_class=HTMLResponse)
def deploy_request(
    request: Request, registry: RegistryDep, caller: Reader, name: str, request_id: int
) -> HTMLResponse:
    found = registry.get_deploy(name, request_id, caller)
    target = registry.get_version(name, found.version_id, caller)
    labels = {x.name: x for x in registry.list_labels(name, caller)}
    now = labels.get(found.label)
    serving = (
        registry.get_version(name, now.version_id, caller)
        if now is not None and now.version_id is not None
        else None
    )
    return render(
        request,
        "deploy.html",
        name=name,
        req=found,
        serving=serving,
        target=target,
        **changes(serving or target, target),
    )


@router.post("/prompts/{name}/deploy-requests/{request_id}/{verb}", response_class=HTMLResponse)
def decide(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    request_id: int,
    verb: str,
    reason: Text = "",
    actor: Text = "",
    accept_breaking: Text = "",
    override_gate: Text = "",
) -> Response:
    cmd = DecideDeploy(
        name,
        request_id,
        approve=verb == "approve",
        reason=reason or None,
        accept_breaking=accept_breaking == "on",
        override_gate=override_gate == "on",
    )
    registry.decide_deploy(cmd, acting(request, caller, actor))
    return remember_actor(redirect(f"/ui/prompts/{name}/deploy-requests/{request_id}"), actor)
