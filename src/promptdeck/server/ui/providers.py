"""Model providers in the web UI (admins): the list, a form to add one (its key stored sealed,
or named as the server's environment variable), and removing one. Never a key on a page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from promptdeck.domain import providers as rules
from promptdeck.domain.providers import Secret, provider_config
from promptdeck.server.api.test_sets import EvaluationsDep
from promptdeck.server.html import render
from promptdeck.server.roles import Admin
from promptdeck.server.ui.view import UIRoute, acting, redirect

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

Name = Annotated[str, Path(min_length=1, max_length=64)]
NOTICES = {"added": "Provider added.", "removed": "Provider removed."}


@router.get("/providers", response_class=HTMLResponse)
def providers_page(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Admin,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return render(
        request,
        "providers.html",
        providers=evaluations.list_providers(caller),
        notice=NOTICES.get(done),
    )


@router.post("/providers", response_class=HTMLResponse)
def add(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Admin,
    name: Annotated[str, Form(max_length=64)],
    base_url: Annotated[str, Form(max_length=2048)],
    models: Annotated[str, Form(max_length=rules.MODELS_MAX * (rules.MODEL_MAX + 2))],
    api_key: Annotated[str, Form(max_length=rules.KEY_MAX)] = "",
    api_key_env: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Models: one a line or comma-separated. An empty key field: no key stored."""
    config = provider_config(
        name.strip(),
        base_url.strip(),
        [m.strip() for m in models.replace(",", "\n").splitlines() if m.strip()],
        api_key_env=api_key_env.strip() or None,
    )
    key = Secret(api_key.strip()) if api_key.strip() else None
    evaluations.add_provider(config, acting(request, caller), key)
    return redirect("/ui/providers", done="added")


@router.post("/providers/{name}/delete", response_class=HTMLResponse)
def remove(request: Request, evaluations: EvaluationsDep, caller: Admin, name: Name) -> Response:
    evaluations.remove_provider(name, acting(request, caller))
    return redirect("/ui/providers", done="removed")
