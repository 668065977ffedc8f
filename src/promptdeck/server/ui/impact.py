"""The impact page of a prompt: the chart (server-drawn SVG), each version's numbers, the
label's periods, alerts with a rollback link, a comparison of two versions, and the alert
rules with the forms that set and remove them (the same core operations as the API's
``PUT``/``DELETE /prompts/{id}/alerts/{label}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from promptdeck import errors
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import RemoveAlert
from promptdeck.domain.impact import ImpactReport
from promptdeck.schemas import AlertSet
from promptdeck.server.api.outcomes import parse_compare
from promptdeck.server.deps import RegistryDep
from promptdeck.server.html import render
from promptdeck.server.respond import message_of, status_for
from promptdeck.server.roles import Reader, Writer
from promptdeck.server.ui.charts import impact_chart, mark_text
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

# Form fields are text; the wire schema (AlertSet) and the core judge them.
FormText = Annotated[str, Form(max_length=200)]
NOTICES = {"alert-saved": "Alert rule saved.", "alert-removed": "Alert rule removed."}
EMPTY_RULE = {"label": "active", "min_success": "", "window_minutes": "15", "min_count": "20"}


def numbers_of(report: ImpactReport) -> dict[int, int]:
    return {v.version_id: v.number for v in report.versions if v.number is not None}


def _page(
    request: Request,
    registry: RegistryDep,
    caller: Caller,
    name: str,
    *,
    label: str = "active",
    a: str = "",
    b: str = "",
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    rule_form: dict[str, str] | None = None,
) -> HTMLResponse:
    pair = parse_compare(f"{a},{b}") if a and b else None
    report = registry.impact(name, caller, label=label or None, compare=pair)
    numbers = numbers_of(report)
    for version in registry.list_versions(name, caller, limit=200).items:
        numbers.setdefault(version.id, version.number)
    alerts = [
        (m, mark_text(m, numbers)) for m in reversed(report.marks) if m.kind == "impact.alert"
    ]
    return render(
        request,
        "impact.html",
        status,
        name=name,
        report=report,
        chart=impact_chart(report, numbers),
        numbers=numbers,
        alerts=alerts,
        rules=registry.list_alerts(name, caller),
        labels=[x.name for x in registry.list_labels(name, caller)],
        rule_form=rule_form or EMPTY_RULE,
        notice=notice,
        error=error,
        a=a,
        b=b,
    )


@router.get("/prompts/{name}/impact", response_class=HTMLResponse)
def impact_page(
    request: Request,
    registry: RegistryDep,
    caller: Reader,
    name: str,
    label: Annotated[str, Query(max_length=64)] = "active",
    a: Annotated[str, Query(max_length=20)] = "",
    b: Annotated[str, Query(max_length=20)] = "",
    done: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    return _page(request, registry, caller, name, label=label, a=a, b=b, notice=NOTICES.get(done))


@router.post("/prompts/{name}/alerts", response_class=HTMLResponse)
def set_alert(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    label: FormText = "",
    min_success: FormText = "",
    window_minutes: FormText = "",
    min_count: FormText = "",
    actor: FormText = "",
) -> Response:
    """Add or replace the label's rule; refused, the page comes back with what was typed."""
    typed = {
        "label": label,
        "min_success": min_success,
        "window_minutes": window_minutes,
        "min_count": min_count,
    }
    try:
        given = {k: v.strip() for k, v in typed.items() if k != "label" and v.strip()}
        body = AlertSet.model_validate_strings(given)
        registry.set_alert(body.to_command(name, label.strip()), acting(request, caller, actor))
    except (errors.PromptdeckError, ValidationError) as exc:
        if isinstance(exc, errors.PromptNotFound):
            raise
        return _page(
            request,
            registry,
            caller,
            name,
            status=status_for(exc),
            error=message_of(exc),
            rule_form=typed,
        )
    return remember_actor(redirect(f"/ui/prompts/{name}/impact", done="alert-saved"), actor)


@router.post("/prompts/{name}/alerts/{label}/remove", response_class=HTMLResponse)
def remove_alert(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    label: str,
    actor: FormText = "",
) -> Response:
    try:
        registry.remove_alert(RemoveAlert(name, label), acting(request, caller, actor))
    except errors.PromptdeckError as exc:
        if isinstance(exc, errors.PromptNotFound):
            raise
        return _page(request, registry, caller, name, status=status_for(exc), error=message_of(exc))
    return remember_actor(redirect(f"/ui/prompts/{name}/impact", done="alert-removed"), actor)
