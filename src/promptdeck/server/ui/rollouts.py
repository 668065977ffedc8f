"""Rollouts in the web UI: the start form (on the promote page) and the controls (on the
labels page, where a rollout in progress is shown: step, share, outcomes per arm, the live
comparison with its intervals, the guard's latest say)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from promptdeck.core.rollouts import CONTROLS
from promptdeck.domain.commands import ControlRollout, StartRollout
from promptdeck.domain.rollouts import assign, guard
from promptdeck.domain.rollouts.record import Rollout
from promptdeck.domain.rollouts.state import LIVE
from promptdeck.errors import InvalidInput
from promptdeck.server.deps import RegistryDep
from promptdeck.server.roles import Writer
from promptdeck.server.ui.charts import interval_chart
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

Text = Annotated[str, Form(max_length=1000)]
NOTICES = {
    "started": "Rollout started.",
    "pause": "Rollout paused.",
    "resume": "Rollout resumed.",
    "advance": "Rollout advanced.",
    "abort": "Rollout aborted: every caller is back on the baseline.",
}


def _number(text: str, field: str, kind: type[int] | type[float]) -> int | float | None:
    """A form's number (blank: the plan's default); the plan parser checks its bounds."""
    if not text.strip():
        return None
    try:
        return kind(text.strip())
    except ValueError:
        raise InvalidInput(f"{field}: must be a number", field=field) from None


def plan_of(
    version_id: int,
    steps: str,
    measure: str,
    max_drop: str,
    min_outcomes: str,
    minutes: str,
    outcomes: str,
    manual: str,
    reason: str,
) -> dict[str, Any]:
    """The plan a form spells; ``parse_plan`` (in the core) judges it whole."""
    shares = []
    for i, part in enumerate(p for p in steps.split(",") if p.strip()):
        share = _number(part, f"steps.{i}", float)
        shares.append(int(share) if share is not None and float(share).is_integer() else share)
    guard: dict[str, Any] = {"measure": measure}
    if measure != "latency_p95":
        guard["max_drop"] = _number(max_drop, "guard.max_drop", float)
    else:
        guard["max_increase_ms"] = _number(max_drop, "guard.max_increase_ms", float)
    found = _number(min_outcomes, "guard.min_outcomes", int)
    if found is not None:
        guard["min_outcomes"] = found
    after = {
        "minutes": _number(minutes, "step_after.minutes", int),
        "outcomes": _number(outcomes, "step_after.outcomes", int),
    }
    plan: dict[str, Any] = {"version_id": version_id, "steps": shares, "guard": guard}
    plan["step_after"] = {k: v for k, v in after.items() if v is not None}
    if manual:
        plan["advance"] = "manual"
    if reason.strip():
        plan["reason"] = reason.strip()
    return plan


@router.post("/prompts/{name}/labels/{label}/rollout", response_class=HTMLResponse)
def start(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    label: str,
    version_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    steps: Text = "5,25,50,100",
    measure: Text = "success_rate",
    max_drop: Text = "",
    min_outcomes: Text = "",
    minutes: Text = "",
    outcomes: Text = "",
    manual: Text = "",
    reason: Text = "",
    actor: Text = "",
    accept_breaking: Text = "",
) -> Response:
    plan = plan_of(
        version_id, steps, measure, max_drop, min_outcomes, minutes, outcomes, manual, reason
    )
    cmd = StartRollout(name, label, plan, accept_breaking == "on")
    registry.start_rollout(cmd, acting(request, caller, actor))
    target = redirect(f"/ui/prompts/{name}/labels", done="started")
    target.headers["location"] += f"#rollout-{label}"
    return remember_actor(target, actor)


@router.post("/prompts/{name}/labels/{label}/rollout/{action}", response_class=HTMLResponse)
def control(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    label: str,
    action: str,
    reason: Text = "",
    actor: Text = "",
) -> Response:
    if action not in CONTROLS:
        raise InvalidInput(f"no rollout control {action!r}", field="action")
    # ``action``: one of CONTROLS, checked above.
    cmd = ControlRollout(name, label, action, reason or None)  # type: ignore[arg-type]
    registry.control_rollout(cmd, acting(request, caller, actor))
    target = redirect(f"/ui/prompts/{name}/labels", done=action)
    target.headers["location"] += f"#rollout-{label}"
    return remember_actor(target, actor)


# --- the labels page's rollout cards ---------------------------------------------------------


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _mean(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def card(r: Rollout) -> dict[str, Any]:
    """What the labels page shows of a rollout, formatted here (the template lays it out)."""
    state = r.state
    shares = [assign.percent(s) for s in state.plan.steps]
    confidence = state.plan.guard.confidence
    arms = [
        {
            "arm": arm_name,
            "version_id": arm.version_id,
            "number": arm.number,
            "name": arm.version_name,
            "count": f"{arm.sums.count:,}",
            "success": _rate(arm.success_rate),
            "success_n": f"{arm.sums.success_n:,}",
            "score": _mean(arm.mean_score),
        }
        for arm_name, arm in (("baseline", r.baseline), ("candidate", r.candidate))
    ]
    judged = [
        {
            "measure": j.measure.replace("_", " "),
            "verdict": j.verdict,
            "sentence": guard.describe(j, state.plan.guard.min_outcomes, confidence),
            "chart": interval_chart(j.measure, j.verdict, j.margin, j.difference, j.low, j.high),
        }
        for j in r.judgements
    ]
    return {
        "id": r.id,
        "label": r.label,
        "status": state.status,
        "live": state.status in LIVE,
        "percent": assign.percent(state.basis_points),
        "step": state.step,
        "steps": shares,
        "plan": state.plan,
        "started_at": state.started_at,
        "started_by": r.started_by,
        "step_started_at": state.step_started_at,
        "ended_at": state.ended_at,
        "arms": arms,
        "judgements": judged,
        "decision": r.decision,
        "confidence": f"{confidence:.0%}",
    }
