"""/prompts/{prompt_id}/labels/{label}/rollout: a label moving by steps to a candidate,
judged by its guard (docs/rollouts.md): start it, read it, pause, resume, advance, abort;
and /prompts/{prompt_id}/rollouts, every rollout of the prompt."""

from __future__ import annotations

from fastapi import APIRouter, Response

from promptdeck import limits
from promptdeck.domain.commands import RolloutAction as Control
from promptdeck.schemas import Page, RolloutControl, RolloutOut, RolloutStart
from promptdeck.server.api.labels import LabelName
from promptdeck.server.api.prompts import Cursor, Limit, PromptRef
from promptdeck.server.api.render import json_response
from promptdeck.server.deps import AcceptBreaking, RegistryDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingWriter, Reader

router = APIRouter(
    prefix="/prompts/{prompt_id}", tags=["rollouts"], responses=responses(400, 404, 422)
)
ROLLOUT = "/labels/{label}/rollout"


@router.post(
    ROLLOUT,
    status_code=201,
    response_model=RolloutOut,
    responses=responses(403, 409),
    summary="Start a rollout of a version on the label (its version now is the baseline)",
    description=(
        "The label serves the candidate to the share of callers the first step says, by "
        "their key, and its guard compares the two arms' outcomes as they arrive. One "
        "rollout per label at a time (409). A protected label needs the admin role, or an "
        "approved deploy request with this plan (POST …/deploy-requests with `plan`)."
    ),
)
def start_rollout(
    prompt_id: PromptRef,
    label: LabelName,
    body: RolloutStart,
    registry: RegistryDep,
    caller: ActingWriter,
    accept_breaking: AcceptBreaking = False,
) -> Response:
    cmd = body.to_command(prompt_id, label, accept_breaking=accept_breaking)
    started = registry.start_rollout(cmd, caller)
    location = f"/prompts/{started.prompt_id}/labels/{label}/rollout"
    return json_response(RolloutOut.of(started), status_code=201, headers={"Location": location})


@router.get(
    ROLLOUT,
    response_model=RolloutOut,
    summary="The label's rollout (its newest, live or ended): share, arms, the guard's say",
)
def get_rollout(
    prompt_id: PromptRef, label: LabelName, registry: RegistryDep, caller: Reader
) -> RolloutOut:
    return RolloutOut.of(registry.get_rollout(prompt_id, label, caller))


def _control(action: Control, summary: str) -> None:
    def control(
        prompt_id: PromptRef,
        label: LabelName,
        registry: RegistryDep,
        caller: ActingWriter,
        body: RolloutControl | None = None,
    ) -> RolloutOut:
        cmd = (body or RolloutControl()).to_command(prompt_id, label, action)
        return RolloutOut.of(registry.control_rollout(cmd, caller))

    control.__name__ = f"{action}_rollout"
    router.post(
        f"{ROLLOUT}/{action}",
        response_model=RolloutOut,
        responses=responses(409),
        summary=summary,
    )(control)


_control("pause", "Pause: hold the share (the guard still rolls a worse candidate back)")
_control("resume", "Resume a paused rollout")
_control("advance", "Advance now to the next share (past the last below 100%: complete)")
_control("abort", "Abort: every caller back on the baseline (the label does not move)")


@router.get(
    "/rollouts",
    response_model=Page[RolloutOut],
    summary="The prompt's rollouts, every label's, newest first",
)
def list_rollouts(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[RolloutOut]:
    page = registry.list_rollouts(prompt_id, caller, limit=limit, cursor=cursor)
    return Page[RolloutOut](
        items=[RolloutOut.of(r) for r in page.items], next_cursor=page.next_cursor
    )
