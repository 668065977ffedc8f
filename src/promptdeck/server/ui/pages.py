"""The pages people read: prompts, a prompt, its history, a version, a comparison.

Each page parses its parameters, asks the registry, and renders a template. Errors from the
registry become readable pages in ``view.UIRoute``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from promptdeck.core import compare as comparing
from promptdeck.domain import diff, values
from promptdeck.domain.caller import Caller
from promptdeck.domain.models import Version
from promptdeck.errors import InvalidInput
from promptdeck.limits import PAGE_LIMIT_MAX
from promptdeck.server import contract_view
from promptdeck.server.api.versions import VersionId
from promptdeck.server.deps import RegistryDep
from promptdeck.server.html import pretty_json, render
from promptdeck.server.roles import Reader
from promptdeck.server.ui.templating import version_page
from promptdeck.server.ui.view import UIRoute

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

PAGE_SIZE = 20
HISTORY_SIZE = 50
CONTEXT_LINES = 3

Cursor = Annotated[str | None, Query(max_length=200)]

NOTICES = {
    "created": "Prompt created. Its first version is active.",
    "saved": "Working copy saved. It is not a version yet: save it as one when it is ready.",
    "version": "New version saved. The active version did not change.",
    "activated": "New version saved and activated.",
    "rolled-back": "Rolled back: the version below is now active.",
    "already-active": "That version was already active: nothing changed.",
    "restored": "Prompt restored, with all its versions.",
}


@router.get("/", response_class=HTMLResponse)
def prompts(
    request: Request,
    registry: RegistryDep,
    caller: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Cursor = None,
    deleted: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The live prompts, or with ``?deleted=1`` the deleted ones, each with a Restore button."""
    page = registry.list_prompts(
        caller, limit=PAGE_SIZE, cursor=cursor, query=q.strip() or None, deleted=deleted
    )
    return render(request, "prompts.html", page=page, q=q, cursor=cursor, deleted=deleted)


@router.get("/prompts", include_in_schema=False)
def prompts_path(request: Request, _caller: Reader) -> RedirectResponse:
    """``/ui/prompts`` mirrors the API's ``/prompts``: the list, with the same parameters."""
    query = request.url.query
    return RedirectResponse("/ui/" + (f"?{query}" if query else ""), status_code=307)


@router.get("/prompts/{name}", response_class=HTMLResponse)
def prompt(
    request: Request,
    registry: RegistryDep,
    caller: Reader,
    name: str,
    done: Annotated[str, Query(max_length=40)] = "",
    v: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    current, active = registry.get_active(name, caller)
    return render(
        request,
        "prompt.html",
        prompt=current,
        active=active,
        labels=registry.list_labels(name, caller),
        form={
            "content": current.content,
            "model_config": _json(current.model_config),
            "contract": contract_view.editable(active.contract),
            "version_name": "",
            "description": "",
        },
        etag=current.etag,
        error=None,
        notice=NOTICES.get(done),
        new_version_id=v if done == "version" else None,
    )


@router.get("/prompts/{name}/versions", response_class=HTMLResponse)
def history(
    request: Request,
    registry: RegistryDep,
    caller: Reader,
    name: str,
    cursor: Cursor = None,
    events: Cursor = None,
) -> HTMLResponse:
    versions = registry.list_versions(name, caller, limit=HISTORY_SIZE, cursor=cursor)
    activity = registry.list_events(name, caller, limit=HISTORY_SIZE, cursor=events)
    numbers = {ver.id: ver.number for ver in versions.items}
    return render(
        request,
        "history.html",
        name=name,
        versions=versions,
        activity=activity,
        numbers=numbers,
        cursor=cursor,
        events_cursor=events,
    )


@router.get("/prompts/{name}/versions/{version_id}", response_class=HTMLResponse)
def version(
    request: Request, registry: RegistryDep, caller: Reader, name: str, version_id: VersionId
) -> HTMLResponse:
    return version_page(request, registry, caller, name, version_id)


def _json(value: object) -> str:
    return pretty_json(value) if value else "{}"


Ref = int | Literal["active", "prev"]


def _ref(value: str, what: str) -> Ref:
    if value in ("active", "prev"):
        return value  # type: ignore[return-value]
    number = values.parse_id(value)
    if number is not None:
        return number
    raise InvalidInput(f"{what} must be a version id, 'active' or 'prev'", field=what)


@router.get("/prompts/{name}/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    registry: RegistryDep,
    caller: Reader,
    name: str,
    a: Annotated[str, Query(max_length=20)] = "",
    b: Annotated[str, Query(max_length=20)] = "active",
    view: Annotated[str, Query(max_length=20)] = "split",
) -> HTMLResponse:
    choices = registry.list_versions(name, caller, limit=PAGE_LIMIT_MAX).items
    if not a and choices:
        # Nothing chosen yet: the active version against the newest, or the newest against
        # its predecessor when the newest is active.
        newest, active = choices[0], next((ver for ver in choices if ver.active), choices[0])
        a, b = (
            (str(active.id), str(newest.id))
            if newest is not active
            else (str(choices[min(1, len(choices) - 1)].id), str(newest.id))
        )
    right = _version(registry, caller, name, _ref(b, "b"))
    left = _version(registry, caller, name, _ref(a, "a"), after=right)
    listed = {ver.id for ver in choices}
    older = {ver.id: ver for ver in (left, right) if ver.id not in listed}  # beyond the list
    choices = [*choices, *older.values()]
    return render(
        request,
        "compare.html",
        name=name,
        left=left,
        right=right,
        choices=choices,
        view="unified" if view == "unified" else "split",
        **changes(left, right),
    )


def _version(
    registry: RegistryDep, caller: Caller, name: str, ref: Ref, after: Version | None = None
) -> Version:
    """A version by id; ``active``; or ``prev``: the one before ``after``."""
    if ref == "active":
        return registry.get_active(name, caller)[1]
    if ref == "prev":
        if after is None or after.previous_version_id is None:
            raise InvalidInput("that version has no previous version to compare with", field="a")
        return registry.get_version(name, after.previous_version_id, caller)
    return registry.get_version(name, ref, caller)


def changes(old: Version, new: Version) -> dict[str, Any]:
    """What the templates need to show the change from ``old`` to ``new``."""
    comparable = old.content is not None and new.content is not None
    old_text, new_text = old.content or "", new.content or ""
    old_messages, new_messages = old.messages, new.messages
    contract_changes = comparing.changes(old, new)
    return {
        "contract_changes": contract_changes,
        "breaking": any(c.breaking for c in contract_changes),
        "message_changes": diff.messages(old_messages, new_messages)
        if comparable and old_messages is not None and new_messages is not None
        else None,
        "comparable": comparable,
        "rows": diff.side_by_side(old_text, new_text, context=CONTEXT_LINES) if comparable else [],
        "lines": diff.unified(old_text, new_text, context=CONTEXT_LINES) if comparable else [],
        "stats": diff.stats(old_text, new_text),
        "config_changes": diff.config_changes(old.model_config or {}, new.model_config or {}),
        "same_content": comparable and old_text == new_text,
        "coarse": comparable and diff.is_coarse(old_text, new_text),
    }
