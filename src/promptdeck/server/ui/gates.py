"""Gates in the web UI (docs/evaluations.md, "The gate"): set and remove a label's gate from
the labels page (admin). The labels page shows each label's gate; the deploy request page
shows its check and offers the admin's override (server/ui/labels.py)."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from promptdeck import errors
from promptdeck.schemas import GateSet
from promptdeck.server.api.test_sets import EvaluationsDep
from promptdeck.server.respond import message_of
from promptdeck.server.roles import Admin
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

Text = Annotated[str, Form(max_length=1000)]


def thresholds_of(text: str) -> dict[str, str]:
    """``contains=0.9, length=1`` (or ``90%``): the least pass rate per evaluator name; the
    schema then checks each is a number from 0 to 1."""
    found: dict[str, str] = {}
    for part in (p.strip() for p in text.replace("\n", ",").split(",")):
        if not part:
            continue
        name, sep, rate = part.partition("=")
        if not sep or not name.strip():
            raise errors.InvalidInput(
                f"write each as evaluator=rate (contains=0.9), not {part[:40]!r}",
                field="thresholds",
            )
        rate = rate.strip()
        if rate.endswith("%"):
            with contextlib.suppress(ValueError):  # not a number: the schema names it
                rate = str(float(rate[:-1]) / 100)
        found[name.strip()] = rate
    return found


@router.post("/prompts/{name}/gates", response_class=HTMLResponse)
def set_gate(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Admin,
    name: str,
    label: Annotated[str, Form(min_length=1, max_length=64)],
    test_set: Text = "",
    thresholds: Text = "",
    actor: Text = "",
) -> Response:
    try:
        body = GateSet.model_validate(
            {"test_set": test_set.strip(), "thresholds": thresholds_of(thresholds)}
        )
    except ValidationError as exc:
        raise errors.InvalidInput(message_of(exc).rstrip("."), field=None) from None
    evaluations.set_gate(
        name, label, body.test_set, dict(body.thresholds), acting(request, caller, actor)
    )
    target = redirect(f"/ui/prompts/{name}/labels", done="gate-set")
    target.headers["location"] += "#gates-h"
    return remember_actor(target, actor)


@router.post("/prompts/{name}/labels/{label}/gate/remove", response_class=HTMLResponse)
def remove_gate(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Admin,
    name: str,
    label: str,
    actor: Text = "",
) -> Response:
    evaluations.remove_gate(name, label, acting(request, caller, actor))
    return remember_actor(redirect(f"/ui/prompts/{name}/labels", done="gate-removed"), actor)
