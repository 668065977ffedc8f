"""The forms that change things: create, edit and save versions, roll back, delete, restore.

POST-redirect-GET; when the registry refuses, the form comes back with what was typed, a
readable message and a 4xx status. The prompt's ETag travels in the form as ``If-Match``, so a
stale page cannot silently overwrite someone else's change.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from promptdeck import errors
from promptdeck.domain import values
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import DeletePrompt, RestorePrompt, Rollback
from promptdeck.schemas import PromptCreate, PromptPatch, VersionCreate
from promptdeck.server.api.versions import VersionId
from promptdeck.server.deps import RegistryDep
from promptdeck.server.html import render
from promptdeck.server.respond import message_of, status_for
from promptdeck.server.roles import Admin, Reader, Writer
from promptdeck.server.ui.pages import changes
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

Text = Annotated[str, Form()]
# A field called model_config would clash with pydantic's own attribute: alias it.
ConfigText = Annotated[str, Form(alias="model_config")]


def _config(text: str) -> dict[str, Any]:
    return values.parse_model_config(text)


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


# --- new prompt ---------------------------------------------------------------------------

EMPTY_NEW = {
    "chat": "",
    "name": "",
    "description": "",
    "tags": "",
    "content": "",
    "model_config": "{}",
    "contract": "",
    "version_name": "",
    "version_description": "",
}


@router.get("/new", response_class=HTMLResponse)
def new_prompt(request: Request, _caller: Writer) -> HTMLResponse:
    return render(request, "new.html", form=EMPTY_NEW, error=None)


@router.post("/new", response_class=HTMLResponse)
def create_prompt(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: Text = "",
    description: Text = "",
    tags: Text = "",
    content: Text = "",
    config_text: ConfigText = "",
    contract: Text = "",
    version_name: Text = "",
    version_description: Text = "",
    actor: Text = "",
    chat: Text = "",
) -> Response:
    is_chat = chat == "on"
    typed = {
        "chat": "on" if is_chat else "",
        "name": name,
        "description": description,
        "tags": tags,
        "content": content,
        "model_config": config_text,
        "contract": contract,
        "version_name": version_name,
        "version_description": version_description,
    }
    try:
        body = PromptCreate.model_validate(
            {
                "name": name.strip(),
                "description": description,
                "tags": _tags(tags),
                "content": "" if is_chat else content,
                "model_config": _config(config_text),
                "contract": values.parse_contract(contract),
                "version_name": version_name.strip() or None,
                "version_description": version_description,
                "messages": [{"role": "system", "content": content}] if is_chat else None,
            }
        )
        created = registry.create_prompt(body.to_command(), acting(request, caller, actor))
    except (errors.PromptdeckError, ValidationError) as exc:
        return render(
            request, "new.html", status_for(exc), form=typed, error=message_of(exc), actor=actor
        )
    where = f"/ui/prompts/{created.prompt.name}" + ("/chat" if is_chat else "")
    done = redirect(where, done="created")
    return remember_actor(done, actor)


# --- the editor: save the working copy, save a version, save and activate ----------------


@router.post("/prompts/{name}", response_class=HTMLResponse)
def save(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    action: Text = "save",
    etag: Text = "",
    content: Text = "",
    config_text: ConfigText = "",
    contract: Text = "",
    version_name: Text = "",
    description: Text = "",
    actor: Text = "",
) -> Response:
    typed = {
        "content": content,
        "model_config": config_text,
        "contract": contract,
        "version_name": version_name,
        "description": description,
    }
    who = acting(request, caller, actor)
    try:
        patch = PromptPatch.model_validate(
            {"content": content, "model_config": _config(config_text)}
        )
        if action == "save":
            registry.update_prompt(patch.to_command(name, if_match=etag or None), who)
            return remember_actor(redirect(f"/ui/prompts/{name}", done="saved"), actor)
        # One transaction: the text becomes the working copy and the new version together.
        version = VersionCreate.model_validate(
            {
                "version_name": version_name.strip() or None,
                "description": description,
                "content": patch.content,
                "model_config": patch.llm_config,
                "contract": values.parse_contract(contract),
                "activate": action == "activate",
            }
        )
        cmd = version.to_command(name, if_match=etag or None, save_working_copy=True)
        created = registry.create_version(cmd, who)
    except (errors.PromptdeckError, ValidationError) as exc:
        if isinstance(exc, errors.PromptNotFound):
            raise
        current, active = registry.get_active(name, caller)
        stale = isinstance(exc, errors.StaleEtag)
        message = message_of(exc)
        return render(
            request,
            "prompt.html",
            status_for(exc),
            prompt=current,
            active=active,
            form=typed,
            etag=current.etag if stale else etag,
            error=message,
            notice=None,
            new_version_id=None,
            actor=actor,
        )
    done = "activated" if action == "activate" else "version"
    return remember_actor(redirect(f"/ui/prompts/{name}", done=done, v=created.version.id), actor)


# --- rollback -----------------------------------------------------------------------------


def _rollback_page(
    request: Request,
    registry: RegistryDep,
    caller: Caller,
    name: str,
    version_id: VersionId,
    *,
    status: int = 200,
    error: str | None = None,
    actor: str = "",
    accept_box: bool = False,
) -> HTMLResponse:
    current, active = registry.get_active(name, caller)
    target = registry.get_version(name, version_id, caller)
    return render(
        request,
        "rollback.html",
        status,
        name=name,
        prompt=current,
        active=active,
        target=target,
        error=error,
        accept_box=accept_box,
        **({"actor": actor} if actor else {}),
        **changes(active, target),
    )


@router.get("/prompts/{name}/versions/{version_id}/rollback", response_class=HTMLResponse)
def confirm_rollback(
    request: Request, registry: RegistryDep, caller: Writer, name: str, version_id: VersionId
) -> HTMLResponse:
    return _rollback_page(request, registry, caller, name, version_id)


@router.post("/prompts/{name}/versions/{version_id}/rollback", response_class=HTMLResponse)
def rollback(
    request: Request,
    registry: RegistryDep,
    caller: Writer,
    name: str,
    version_id: VersionId,
    etag: Text = "",
    actor: Text = "",
    accept_breaking: Text = "",
) -> Response:
    try:
        cmd = Rollback(
            name, version_id, if_match=etag or None, accept_breaking=accept_breaking == "on"
        )
        result = registry.rollback(cmd, acting(request, caller, actor))
    except (errors.StaleEtag, errors.Conflict) as exc:
        return _rollback_page(
            request,
            registry,
            caller,
            name,
            version_id,
            status=status_for(exc),
            error=message_of(exc),
            actor=actor,
            # A protected active label and a breaking contract: the box, now that it is needed.
            accept_box=isinstance(exc, errors.BreakingChange),
        )
    done = "rolled-back" if result.changed else "already-active"
    return remember_actor(redirect(f"/ui/prompts/{name}", done=done), actor)


# --- delete and restore -------------------------------------------------------------------


@router.get("/prompts/{name}/delete", response_class=HTMLResponse)
def confirm_delete(
    request: Request, registry: RegistryDep, caller: Admin, name: str
) -> HTMLResponse:
    found = registry.get_prompt(name, caller)
    return render(request, "delete.html", prompt=found, error=None)


@router.post("/prompts/{name}/delete", response_class=HTMLResponse)
def delete(
    request: Request,
    registry: RegistryDep,
    caller: Admin,
    name: str,
    etag: Text = "",
    actor: Text = "",
) -> Response:
    try:
        cmd = DeletePrompt(name, if_match=etag or None)
        registry.delete_prompt(cmd, acting(request, caller, actor))
    except errors.StaleEtag as exc:
        found = registry.get_prompt(name, caller)
        return render(request, "delete.html", status_for(exc), prompt=found, error=message_of(exc))
    return remember_actor(redirect(f"/ui/deleted/{name}"), actor)


@router.get("/deleted/{name}", response_class=HTMLResponse)
def deleted(request: Request, _caller: Reader, name: str) -> HTMLResponse:
    return render(request, "deleted.html", name=name, error=None)


@router.post("/prompts/{name}/restore", response_class=HTMLResponse)
def restore(
    request: Request, registry: RegistryDep, caller: Writer, name: str, actor: Text = ""
) -> Response:
    try:
        restored = registry.restore_prompt(RestorePrompt(name), acting(request, caller, actor))
    except errors.PromptNotDeleted:
        return redirect(f"/ui/prompts/{name}")
    return remember_actor(redirect(f"/ui/prompts/{restored.name}", done="restored"), actor)
