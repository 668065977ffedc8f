"""/prompts/{prompt_id}/labels and /deploys: labels (named pointers at versions, moved with
compare-and-swap), their history, and deploy requests for protected labels."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from promptdeck import limits
from promptdeck.core import Registry
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import RemoveLabel, RevertLabel
from promptdeck.domain.labels import (
    DEPLOY_STATUSES,
    LABEL_MAX,
    LABEL_REGEX,
    REASON_MAX,
    DeployRequest,
    Label,
    LabelMove,
)
from promptdeck.domain.models import Page as DomainPage
from promptdeck.schemas import (
    DeployCreate,
    DeployDecision,
    DeployOut,
    LabelMoveOut,
    LabelOut,
    LabelPatch,
    LabelSet,
    MovedOut,
    Page,
    RolloutOut,
)
from promptdeck.server.api.prompts import Cursor, Limit, PromptRef
from promptdeck.server.api.render import json_response
from promptdeck.server.deps import AcceptBreaking, IfMatch, RegistryDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingWriter, Reader

router = APIRouter(
    prefix="/prompts/{prompt_id}", tags=["labels"], responses=responses(400, 404, 422)
)

# The label's pattern is in the document for clients; the core checks it (domain/labels.py),
# so the refusal keeps its message.
LabelName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=LABEL_MAX,
        json_schema_extra={"pattern": LABEL_REGEX},
        description="The label (a slug: production, staging…).",
    ),
]
RequestId = Annotated[int, Path(ge=1, le=limits.ID_MAX, description="The deploy request's id.")]
Reason = Annotated[
    str | None, Query(max_length=REASON_MAX, description="Why (kept in the history).")
]


def label_out(label: Label) -> LabelOut:
    out = LabelOut.model_validate(replace(label, rollout=None))
    if label.rollout is not None:
        out.rollout = RolloutOut.of(label.rollout)
    return out


def move_page(page: DomainPage[LabelMove]) -> Page[LabelMoveOut]:
    return Page[LabelMoveOut](
        items=[LabelMoveOut.model_validate(m) for m in page.items], next_cursor=page.next_cursor
    )


def deploy_out(request: DeployRequest) -> DeployOut:
    return DeployOut.model_validate(request)


@router.get("/labels", response_model=list[LabelOut], summary="The prompt's labels, active first")
def list_labels(prompt_id: PromptRef, registry: RegistryDep, caller: Reader) -> list[LabelOut]:
    return [label_out(x) for x in registry.list_labels(prompt_id, caller)]


@router.get("/labels/{label}", response_model=LabelOut, summary="One label, with its ETag")
def get_label(
    prompt_id: PromptRef, label: LabelName, registry: RegistryDep, caller: Reader
) -> Response:
    found = registry.get_label(prompt_id, label, caller)
    return json_response(label_out(found), headers={"ETag": found.etag})


@router.put(
    "/labels/{label}",
    response_model=MovedOut,
    responses=responses(403, 409, 412),
    summary="Point a label at a version (If-Match: the label's ETag, a compare-and-swap)",
)
def move_label(
    prompt_id: PromptRef,
    label: LabelName,
    body: LabelSet,
    registry: RegistryDep,
    caller: ActingWriter,
    if_match: IfMatch = None,
    accept_breaking: AcceptBreaking = False,
) -> Response:
    cmd = body.to_command(prompt_id, label, if_match=if_match, accept_breaking=accept_breaking)
    moved = registry.move_label(cmd, caller)
    out = MovedOut(changed=moved.changed, label=label_out(moved.label))
    return json_response(out, headers={"ETag": moved.label.etag})


@router.patch(
    "/labels/{label}",
    response_model=LabelOut,
    responses=responses(403),
    summary="Protect a label or lift its protection (admin)",
    description=(
        "A new prompt (created, or imported without a protected set) starts with "
        "`production` protected: moving it needs the admin role or an approved deploy "
        'request until an admin sends `{"protected": false}` for it here.'
    ),
)
def patch_label(
    prompt_id: PromptRef,
    label: LabelName,
    body: LabelPatch,
    registry: RegistryDep,
    caller: ActingWriter,
) -> LabelOut:
    return label_out(registry.protect_label(body.to_command(prompt_id, label), caller))


@router.delete(
    "/labels/{label}",
    status_code=204,
    responses=responses(403, 409, 412),
    summary="Remove a label (any but active)",
)
def remove_label(
    prompt_id: PromptRef,
    label: LabelName,
    registry: RegistryDep,
    caller: ActingWriter,
    reason: Reason = None,
    if_match: IfMatch = None,
) -> Response:
    registry.remove_label(RemoveLabel(prompt_id, label, reason, if_match), caller)
    return Response(status_code=204)


@router.get(
    "/labels/{label}/history",
    response_model=Page[LabelMoveOut],
    summary="A label's moves, newest first: from, to, who, when, why",
)
def label_history(
    prompt_id: PromptRef,
    label: LabelName,
    registry: RegistryDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[LabelMoveOut]:
    return move_page(registry.label_history(prompt_id, label, caller, limit=limit, cursor=cursor))


@router.post(
    "/labels/{label}/revert",
    response_model=MovedOut,
    responses=responses(403, 409, 412),
    summary="Undo the label's last move (itself a recorded move)",
)
def revert_label(
    prompt_id: PromptRef,
    label: LabelName,
    registry: RegistryDep,
    caller: ActingWriter,
    if_match: IfMatch = None,
    accept_breaking: AcceptBreaking = False,
) -> Response:
    cmd = RevertLabel(prompt_id, label, if_match, accept_breaking=accept_breaking)
    moved = registry.revert_label(cmd, caller)
    out = MovedOut(changed=moved.changed, label=label_out(moved.label))
    return json_response(out, headers={"ETag": moved.label.etag})


@router.get(
    "/deploys",
    response_model=Page[LabelMoveOut],
    summary="Every label move of the prompt, newest first (its deploy history)",
)
def deploy_history(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[LabelMoveOut]:
    return move_page(registry.label_history(prompt_id, None, caller, limit=limit, cursor=cursor))


@router.post(
    "/deploy-requests",
    status_code=201,
    response_model=DeployOut,
    responses=responses(409),
    summary="Propose moving a label to a version (or rolling it out: plan), with a reason",
)
def propose_deploy(
    prompt_id: PromptRef, body: DeployCreate, registry: RegistryDep, caller: ActingWriter
) -> Response:
    request = registry.propose_deploy(body.to_command(prompt_id), caller)
    location = f"/prompts/{request.prompt_id}/deploy-requests/{request.id}"
    return json_response(deploy_out(request), status_code=201, headers={"Location": location})


@router.get(
    "/deploy-requests",
    response_model=Page[DeployOut],
    summary="Deploy requests, newest first",
)
def list_deploys(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: Reader,
    status: Annotated[
        str | None,
        Query(
            max_length=16,
            json_schema_extra={"enum": list(DEPLOY_STATUSES)},
            description="open, approved or rejected.",
        ),
    ] = None,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[DeployOut]:
    page = registry.list_deploys(prompt_id, caller, status=status, limit=limit, cursor=cursor)
    return Page[DeployOut](items=[deploy_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/deploy-requests/{request_id}",
    response_model=DeployOut,
    summary="One deploy request, with the diff against what its label serves now",
)
def get_deploy(
    prompt_id: PromptRef, request_id: RequestId, registry: RegistryDep, caller: Reader
) -> DeployOut:
    return deploy_out(registry.get_deploy(prompt_id, request_id, caller))


def _decide(
    registry: Registry,
    prompt_id: str,
    request_id: int,
    approve: bool,
    body: DeployDecision | None,
    caller: Caller,
    accept_breaking: bool = False,
) -> DeployOut:
    """Approve and reject: one core call, the same answer."""
    decision = body or DeployDecision()
    cmd = decision.to_command(
        prompt_id, request_id, approve=approve, accept_breaking=accept_breaking
    )
    return deploy_out(registry.decide_deploy(cmd, caller))


@router.post(
    "/deploy-requests/{request_id}/approve",
    response_model=DeployOut,
    responses=responses(403, 409),
    summary="Approve: the label moves now (admin; not the proposer; 409 if stale or its gate "
    "is not passed, unless override_gate with a reason)",
)
def approve_deploy(
    prompt_id: PromptRef,
    request_id: RequestId,
    registry: RegistryDep,
    caller: ActingWriter,
    body: DeployDecision | None = None,
    accept_breaking: AcceptBreaking = False,
) -> DeployOut:
    return _decide(registry, prompt_id, request_id, True, body, caller, accept_breaking)


@router.post(
    "/deploy-requests/{request_id}/reject",
    response_model=DeployOut,
    responses=responses(403, 409),
    summary="Reject (admin; not the proposer)",
)
def reject_deploy(
    prompt_id: PromptRef,
    request_id: RequestId,
    registry: RegistryDep,
    caller: ActingWriter,
    body: DeployDecision | None = None,
) -> DeployOut:
    return _decide(registry, prompt_id, request_id, False, body, caller)
