"""The impact page of a prompt: the chart (server-drawn SVG), each version's numbers, the
label's periods, alerts with a rollback link, and a comparison of two versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from promptdeck.domain.impact import ImpactReport
from promptdeck.server.api.outcomes import parse_compare
from promptdeck.server.deps import RegistryDep
from promptdeck.server.ui.charts import impact_chart, mark_text
from promptdeck.server.ui.view import UIRoute, render

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)


def numbers_of(report: ImpactReport) -> dict[int, int]:
    return {v.version_id: v.number for v in report.versions if v.number is not None}


@router.get("/prompts/{name}/impact", response_class=HTMLResponse)
def impact_page(
    request: Request,
    registry: RegistryDep,
    name: str,
    label: Annotated[str, Query(max_length=64)] = "active",
    a: Annotated[str, Query(max_length=20)] = "",
    b: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    pair = parse_compare(f"{a},{b}") if a and b else None
    report = registry.impact(name, label=label or None, compare=pair)
    numbers = numbers_of(report)
    for version in registry.list_versions(name, limit=200).items:
        numbers.setdefault(version.id, version.number)
    alerts = [
        (m, mark_text(m, numbers)) for m in reversed(report.marks) if m.kind == "impact.alert"
    ]
    return render(
        request,
        "impact.html",
        name=name,
        report=report,
        chart=impact_chart(report, numbers),
        numbers=numbers,
        alerts=alerts,
        rules=registry.list_alerts(name),
        a=a,
        b=b,
    )
