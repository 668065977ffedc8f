"""Templates in the UI: a version's preview with sample values (rendered on the server), and
the chat editor (messages, one row each).

Forms post back to the same page; without the small script in app.js everything works by
submitting, with it the preview follows the typing.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from promptdeck import errors
from promptdeck.domain import templates, values
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import RenderPrompt
from promptdeck.domain.models import Version
from promptdeck.schemas import VersionCreate
from promptdeck.server import contract_view
from promptdeck.server.deps import RegistryDep
from promptdeck.server.html import render
from promptdeck.server.respond import message_of, status_for
from promptdeck.server.roles import Reader, Writer
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

BLANK_ROWS = 2  # empty message rows offered under the existing ones
ROLES = [*templates.ROLES, templates.PLACEHOLDER]


def sample_values(version: Version, form: dict[str, str]) -> dict[str, Any]:
    """The preview's values: placeholders take JSON (a list of messages), others text."""
    placeholders = {m["name"] for m in version.messages or [] if m["role"] == "placeholder"}
    values: dict[str, Any] = {}
    for name in version.variables or []:
        raw = form.get(f"var.{name}")
        if raw is None:
            continue
        if name in placeholders:
            try:
                values[name] = json.loads(raw or "[]")
            except json.JSONDecodeError as exc:
                raise errors.InvalidInput(f"{name}: not JSON ({exc.msg})") from exc
        else:
            values[name] = raw
    return values


def version_page(
    request: Request,
    registry: RegistryDep,
    caller: Caller,
    name: str,
    version_id: int,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    version = registry.get_version(name, version_id, caller)
    includes = registry.dependencies(name, version_id, caller)
    preview: Any = None
    error = None
    if form is not None and version.content is not None:
        try:
            cmd = RenderPrompt(name, sample_values(version, form), version_id=version_id)
            out = registry.render(cmd, caller)
            preview = out.rendered.value()
        except errors.PromptdeckError as exc:
            error = message_of(exc)
    return render(
        request,
        "version.html",
        name=name,
        version=version,
        includes=includes,
        samples=form or {},
        preview=preview,
        preview_error=error,
        impact=registry.version_impact(name, version_id, caller),
    )


@router.post("/prompts/{name}/versions/{version_id}", response_class=HTMLResponse)
async def preview(
    request: Request, registry: RegistryDep, caller: Reader, name: str, version_id: int
) -> HTMLResponse:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return version_page(request, registry, caller, name, version_id, form)


# --- the chat editor ------------------------------------------------------------------------


def _rows(messages: list[dict[str, str]], extra: int = BLANK_ROWS) -> list[dict[str, str]]:
    rows = [{"role": m["role"], "content": m.get("content", m.get("name", ""))} for m in messages]
    return rows + [{"role": "user", "content": ""} for _ in range(extra)]


def _messages(form: dict[str, str]) -> list[dict[str, str]]:
    """Rows in order; empty rows are left out; a placeholder's text is its name."""
    out = []
    i = 0
    while f"role.{i}" in form:
        role, text = form[f"role.{i}"], form.get(f"content.{i}", "")
        if text.strip():
            if role == templates.PLACEHOLDER:
                out.append({"role": role, "name": text.strip()})
            else:
                out.append({"role": role, "content": text})
        i += 1
    return out


@router.get("/prompts/{name}/chat", response_class=HTMLResponse)
def chat_editor(request: Request, registry: RegistryDep, caller: Reader, name: str) -> HTMLResponse:
    prompt, active = registry.get_active(name, caller)
    start = active.messages or [{"role": "system", "content": active.content or ""}]
    return render(
        request,
        "chat.html",
        name=name,
        prompt=prompt,
        rows=_rows(start),
        roles=ROLES,
        form={
            "version_name": "",
            "description": "",
            "activate": "on",
            "contract": contract_view.editable(active.contract),
        },
        error=None,
    )


@router.post("/prompts/{name}/chat", response_class=HTMLResponse)
async def save_chat(request: Request, registry: RegistryDep, caller: Writer, name: str) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    messages = _messages(form)
    actor = form.get("actor", "")
    if form.get("action") == "add":
        prompt = registry.get_active(name, caller)[0]
        return render(
            request, "chat.html", name=name, prompt=prompt, rows=_rows(messages, BLANK_ROWS + 1),
            roles=ROLES, form=form, error=None,
        )  # fmt: skip
    try:
        body = VersionCreate.model_validate(
            {
                "version_name": form.get("version_name", "").strip() or None,
                "description": form.get("description", ""),
                "kind": "chat",
                "messages": messages,
                "contract": values.parse_contract(form.get("contract", "")),
                "activate": form.get("activate") == "on",
            }
        )
        created = registry.create_version(body.to_command(name), acting(request, caller, actor))
    except errors.PromptNotFound:
        raise
    except (errors.PromptdeckError, ValueError) as exc:
        prompt = registry.get_active(name, caller)[0]
        return render(
            request, "chat.html", status_for(exc), name=name, prompt=prompt,
            rows=_rows(messages), roles=ROLES, form=form, error=message_of(exc),
        )  # fmt: skip
    done = "activated" if form.get("activate") == "on" else "version"
    return remember_actor(
        redirect(f"/ui/prompts/{name}/versions/{created.version.id}", done=done), actor
    )
