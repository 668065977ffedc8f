"""The playground: a prompt's template edited, its variables filled from a form built from
the version's contract (declared or inferred), run on a configured provider and model, side
by side with a saved version on the same variables; the draft saved as a new version
(through create_version, with its label rules) and a run made a test case
(``Evaluations.add_cases``) in one click.

Without a script the form posts back to the page: Run answers whole, rendered here. With
app.js, Run streams each pane from ``…/playground/run`` (Server-Sent Events; the form's own
fields and CSRF token) and the answer appears as it comes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from promptdeck import errors
from promptdeck.core.evaluating import Evaluations
from promptdeck.domain import values
from promptdeck.domain.caller import Caller
from promptdeck.domain.models import Version
from promptdeck.domain.runs import Draft, RunPrompt, RunResult
from promptdeck.domain.test_sets import Case
from promptdeck.schemas import RunDraftIn, VersionCreate
from promptdeck.server import contract_view
from promptdeck.server.deps import RegistryDep
from promptdeck.server.html import render
from promptdeck.server.problems import problem_body, status_of
from promptdeck.server.respond import message_of, status_for
from promptdeck.server.roles import Writer
from promptdeck.server.runs import EventStream, PromptRuns
from promptdeck.server.ui.templating import ROLES, _messages, _rows
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

VERSIONS_SHOWN = 100  # the newest versions offered to start from and to compare with
JSON_TYPES = ("integer", "number", "boolean", "array", "object", "messages", "null")


@dataclass(frozen=True, slots=True)
class Pane:
    """One side of the page: what ran and its answer (or why there is none)."""

    title: str
    target: str  # "draft", or a version's id
    result: RunResult | None = None
    error: str | None = None


def _runs(request: Request) -> PromptRuns:
    found: PromptRuns = request.app.state.runs
    return found


def _evaluations(request: Request) -> Evaluations:
    found: Evaluations = request.app.state.evaluations
    return found


async def _form(request: Request) -> dict[str, str]:
    """The form's text fields, line ends as typed: a browser sends a textarea's as CRLF."""
    sent = (await request.form()).items()
    return {k: v.replace("\r\n", "\n") for k, v in sent if isinstance(v, str)}


def _id(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    found = values.parse_id(text.strip())
    if found is None:
        raise errors.InvalidInput(f"{field} must be a version id", field=field)
    return found


def _value(raw: str, kind: str) -> Any:
    """A form field as a variable: text, or JSON for a variable the contract types
    otherwise (a number, a list of messages...) when it reads as JSON."""
    if any(t in kind for t in JSON_TYPES) and "string" not in kind:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def variables_of(form: dict[str, str], rows: list[contract_view.VariableRow]) -> dict[str, Any]:
    """The form's variables: one field each the contract names (left out when blank and
    not required), then any more given as a JSON object."""
    found: dict[str, Any] = {}
    for row in rows:
        raw = form.get(f"var.{row.name}")
        if raw is None or (raw == "" and not row.required):
            continue
        found[row.name] = _value(raw, row.type)
    extra = form.get("variables_json", "").strip()
    if extra:
        more = values._json_object(extra, "variables_json", '{"name": "value"}')
        found.update(more)
    return found


def draft_of(form: dict[str, str]) -> Draft:
    """The edited template, checked as the API checks a draft."""
    chat = form.get("kind") == "chat"
    body = RunDraftIn.model_validate(
        {
            "content": None if chat else form.get("content", ""),
            "messages": _messages(form) if chat else None,
            "model_config": values.parse_model_config(form.get("model_config", "") or "{}"),
            "contract": values.parse_contract(form.get("contract", "")),
            "template_format": form.get("template_format", "plain"),
        }
    )
    return body.to_draft()


def _choice(form: dict[str, str]) -> tuple[str, str | None]:
    """The "provider/model" select's value."""
    provider, _, model = form.get("model_choice", "").partition("/")
    if not provider:
        raise errors.InvalidInput("choose a provider and model", field="model_choice")
    return provider, model or None


def _base(registry: RegistryDep, caller: Caller, name: str, version_id: int | None) -> Version:
    if version_id is None:
        return registry.get_active(name, caller)[1]
    return registry.get_version(name, version_id, caller)


def _page(
    request: Request,
    registry: RegistryDep,
    caller: Caller,
    name: str,
    base: Version,
    form: dict[str, str],
    *,
    panes: list[Pane] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    versions = registry.list_versions(name, caller, limit=VERSIONS_SHOWN).items
    evaluating = _evaluations(request)
    providers = evaluating.list_providers(caller)
    test_sets = evaluating.list_test_sets(caller, prompt=name, limit=100).items
    chat = base.kind == "chat"
    rows = _rows(_messages(form) if chat and "role.0" in form else base.messages or [], 1)
    if not panes:  # before a run: where the answers will go
        compare = _id(form.get("compare", ""), "compare")
        panes = [Pane("Draft", "draft")]
        if compare is not None:
            panes.append(Pane(_title(versions, compare), str(compare)))
    return render(
        request,
        "playground.html",
        status_code,
        name=name,
        base=base,
        versions=versions,
        providers=providers,
        test_sets=test_sets,
        variables=contract_view.variable_rows(base.full_contract),
        chat=chat,
        rows=rows,
        roles=ROLES,
        form=form,
        panes=panes,
        error=error,
        notice=notice,
    )


def _start_form(base: Version, compare: int | None) -> dict[str, str]:
    return {
        "base": str(base.id),
        "compare": "" if compare is None else str(compare),
        "content": "" if base.kind == "chat" else (base.content or ""),
        "model_config": json.dumps(base.model_config or {}, indent=2),
        "contract": contract_view.editable(base.contract),
        "template_format": base.template_format,
        "kind": base.kind,
    }


@router.get("/prompts/{name}/playground", response_class=HTMLResponse)
def playground(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    version: Annotated[str, Query(max_length=20)] = "",
    compare: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    base = _base(registry, caller, name, _id(version, "version"))
    other = _id(compare, "compare")
    return _page(request, registry, caller, name, base, _start_form(base, other))


def _commands(form: dict[str, str], rows: list[contract_view.VariableRow], name: str) -> list[Any]:
    """What Run asks: the draft, and the version to compare with (same variables)."""
    provider, model = _choice(form)
    variables = variables_of(form, rows)
    cmds = [RunPrompt(name, variables, provider, draft=draft_of(form), model=model)]
    other = _id(form.get("compare", ""), "compare")
    if other is not None:
        cmds.append(RunPrompt(name, variables, provider, version_id=other, model=model))
    return cmds


def _title(versions: list[Version], version_id: int) -> str:
    found = next((v for v in versions if v.id == version_id), None)
    return f"Version id {version_id}" if found is None else f"#{found.number} {found.version_name}"


async def _pane(runs: PromptRuns, cmd: RunPrompt, caller: Caller) -> Pane:
    title = "Draft" if cmd.draft is not None else f"Version id {cmd.version_id}"
    target = "draft" if cmd.draft is not None else str(cmd.version_id)
    try:
        return Pane(title, target, await runs.run(cmd, caller))
    except errors.PromptdeckError as exc:
        return Pane(title, target, error=message_of(exc))


@router.post("/prompts/{name}/playground", response_class=HTMLResponse)
async def act(request: Request, registry: RegistryDep, caller: Writer, name: str) -> Response:
    """Run (whole answers, without a script), save the draft as a version, or add the
    variables (and the output) to a test set as a case."""
    form = await _form(request)
    actor = form.get("actor", "")
    who = acting(request, caller, actor)
    base = _base(registry, caller, name, _id(form.get("base", ""), "base"))
    rows = contract_view.variable_rows(base.full_contract)
    action = form.get("action", "run")
    try:
        if action == "save":
            chat = form.get("kind") == "chat"
            body = VersionCreate.model_validate(
                {
                    "description": form.get("description", ""),
                    "kind": "chat" if chat else "text",
                    "content": None if chat else form.get("content", ""),
                    "messages": _messages(form) if chat else None,
                    "model_config": values.parse_model_config(form.get("model_config") or "{}"),
                    "contract": values.parse_contract(form.get("contract", "")),
                    "template_format": form.get("template_format", "plain"),
                    "activate": form.get("activate") == "on",
                }
            )
            created = registry.create_version(body.to_command(name), who)
            done = "activated" if body.activate else "version"
            return remember_actor(
                redirect(f"/ui/prompts/{name}/versions/{created.version.id}", done=done), actor
            )
        if action == "case":
            test_set = form.get("test_set", "")
            expected = form.get("output") if form.get("with_output") == "on" else None
            case = Case(variables_of(form, rows), expected, {"from": "playground"})
            added = _evaluations(request).add_cases(test_set, [case], who)
            notice = f"Added a case to {added.name} (now version {added.version})."
            return _page(request, registry, caller, name, base, form, notice=notice)
        runs = _runs(request)
        cmds = _commands(form, rows, name)
        panes = await asyncio.gather(*(_pane(runs, cmd, who) for cmd in cmds))
        if panes[0].result is not None:
            form = {**form, "output": panes[0].result.completion.output}  # type: ignore[union-attr]
        return _page(request, registry, caller, name, base, form, panes=list(panes))
    except errors.PromptNotFound:
        raise
    except (errors.PromptdeckError, ValueError) as exc:
        return _page(
            request, registry, caller, name, base, form,
            error=message_of(exc), status_code=status_for(exc),
        )  # fmt: skip


@router.post("/prompts/{name}/playground/run")
async def stream(request: Request, registry: RegistryDep, caller: Writer, name: str) -> Response:
    """One pane's run as Server-Sent Events (app.js): ``target`` is ``draft`` or the id of
    the version to compare with. A run refused before it starts answers a problem."""
    form = await _form(request)
    who = acting(request, caller, form.get("actor", ""))
    try:
        base = _base(registry, caller, name, _id(form.get("base", ""), "base"))
        cmds = _commands(
            {**form, "compare": ""}, contract_view.variable_rows(base.full_contract), name
        )
        cmd = cmds[0]
        if form.get("target", "draft") != "draft":
            version_id = _id(form.get("target", ""), "target")
            cmd = RunPrompt(name, cmd.values, cmd.provider, version_id=version_id, model=cmd.model)
        cmd = RunPrompt(
            name, cmd.values, cmd.provider, version_id=cmd.version_id, draft=cmd.draft,
            model=cmd.model, stream=True,
        )  # fmt: skip
        return EventStream(await _runs(request).stream(cmd, who, request.url.path))
    except errors.PromptdeckError as exc:
        listed = exc.extra.get("errors")
        body = problem_body(
            status_of(exc), exc.code, exc.title, exc.detail, field=exc.field,
            errors_=listed if isinstance(listed, list) else None,
        )  # fmt: skip
        return JSONResponse(json.loads(body), status_code=status_of(exc))
    except ValueError as exc:  # a draft the wire schema refuses
        return JSONResponse({"status": 422, "detail": message_of(exc)}, status_code=422)
