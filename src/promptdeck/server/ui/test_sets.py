"""Test sets in the web UI (docs/evaluations.md): the list (by prompt) with the form that
creates one, and a set's page with its versions, its cases page by page, and the form that
adds cases. Cases are pasted as JSONL or uploaded as a JSONL or CSV file, read by the API's
importers; a refused form comes back with what was typed and the reason, with a 4xx."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from promptdeck import errors, limits
from promptdeck.domain.caller import Caller
from promptdeck.schemas import CasesAdd, TestSetCreate
from promptdeck.server.api.test_sets import EvaluationsDep
from promptdeck.server.html import render
from promptdeck.server.respond import message_of, status_for
from promptdeck.server.roles import Reader, Writer
from promptdeck.server.ui.view import UIRoute, acting, redirect, remember_actor

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

PAGE_SIZE = 20
CASES_PAGE = 50
Cursor = Annotated[str | None, Query(max_length=200)]
SetName = Annotated[str, Path(min_length=1, max_length=limits.TEST_SET_NAME_MAX)]
Text = Annotated[str, Form(max_length=1000)]
CasesText = Annotated[str, Form(max_length=limits.TEST_SET_IMPORT_MAX_CHARS)]
Upload = Annotated[UploadFile | None, File()]
FORMATS = ("jsonl", "csv")
EMPTY = {"name": "", "prompt": "", "description": "", "cases": "", "format": "jsonl"}


def cases_import(text: str, upload: UploadFile | None, fmt: str) -> dict[str, str]:
    """The ``import`` of a form: the pasted text or the uploaded file (not both), in the
    format chosen (a file named ``*.csv`` is CSV whatever was chosen)."""
    has_file = upload is not None and bool(upload.filename)
    if has_file and text.strip():
        raise errors.InvalidInput("paste cases or upload a file, not both", field="file")
    if upload is not None and has_file:
        raw = upload.file.read(limits.TEST_SET_IMPORT_MAX_CHARS * 4 + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise errors.InvalidInput("the file is not UTF-8 text", field="file") from None
        if (upload.filename or "").lower().endswith(".csv"):
            fmt = "csv"
    if not text.strip():
        raise errors.InvalidInput("paste at least one case, or upload a file", field="cases")
    if fmt not in FORMATS:
        raise errors.InvalidInput("the format is jsonl or csv", field="format")
    return {"format": fmt, "data": text}


@router.get("/test-sets", response_class=HTMLResponse)
def test_sets_page(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Reader,
    prompt: Annotated[str, Query(max_length=limits.PROMPT_NAME_MAX)] = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    form = EMPTY | {"prompt": prompt}
    return _list(request, evaluations, caller, prompt.strip(), cursor, form=form)


def _list(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Caller,
    prompt: str,
    cursor: str | None,
    *,
    form: dict[str, str],
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    page = evaluations.list_test_sets(caller, prompt=prompt or None, limit=PAGE_SIZE, cursor=cursor)
    return render(
        request,
        "test_sets.html",
        status,
        page=page,
        prompt=prompt,
        cursor=cursor,
        form=form,
        error=error,
    )


@router.post("/test-sets", response_class=HTMLResponse)
def create(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Writer,
    name: Text = "",
    prompt: Text = "",
    description: Text = "",
    cases: CasesText = "",
    format: Text = "jsonl",
    file: Upload = None,
    actor: Text = "",
) -> Response:
    typed = {"name": name, "prompt": prompt, "description": description, "cases": cases}
    typed["format"] = format
    try:
        body = TestSetCreate.model_validate(
            {
                "name": name.strip(),
                "prompt": prompt.strip(),
                "description": description,
                "import": cases_import(cases, file, format),
            }
        )
        created = evaluations.create_test_set(
            body.name,
            body.prompt,
            body.to_cases(),
            acting(request, caller, actor),
            description=body.description,
        )
    except (errors.PromptdeckError, ValidationError) as exc:
        return _list(
            request,
            evaluations,
            caller,
            "",
            None,
            form=typed,
            status=status_for(exc),
            error=message_of(exc),
        )
    return remember_actor(redirect(f"/ui/test-sets/{created.name}", done="created"), actor)


@router.get("/test-sets/{set_name}", response_class=HTMLResponse)
def test_set_page(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Reader,
    set_name: SetName,
    version: Annotated[int | None, Query(ge=1, le=limits.ID_MAX)] = None,
    cursor: Cursor = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    notice = {"created": "Test set created.", "added": "Cases added: a new version."}.get(done)
    return _set(request, evaluations, caller, set_name, version, cursor, notice=notice)


def _set(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Caller,
    set_name: str,
    version: int | None,
    cursor: str | None,
    *,
    form: dict[str, str] | None = None,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    found = evaluations.get_test_set(set_name, caller)
    cases = evaluations.list_cases(
        set_name, caller, version=version, limit=CASES_PAGE, cursor=cursor
    )
    return render(
        request,
        "test_set.html",
        status,
        ts=found,
        cases=cases,
        version=version or found.version,
        cursor=cursor,
        form=form or {"cases": "", "description": "", "format": "jsonl"},
        error=error,
        notice=notice,
    )


@router.post("/test-sets/{set_name}/cases", response_class=HTMLResponse)
def add_cases(
    request: Request,
    evaluations: EvaluationsDep,
    caller: Writer,
    set_name: SetName,
    description: Text = "",
    cases: CasesText = "",
    format: Text = "jsonl",
    file: Upload = None,
    actor: Text = "",
) -> Response:
    typed = {"cases": cases, "description": description, "format": format}
    try:
        body = CasesAdd.model_validate(
            {"description": description, "import": cases_import(cases, file, format)}
        )
        evaluations.add_cases(
            set_name,
            body.to_cases(),
            acting(request, caller, actor),
            description=body.description,
        )
    except (errors.PromptdeckError, ValidationError) as exc:
        if isinstance(exc, errors.TestSetNotFound):
            raise
        return _set(
            request,
            evaluations,
            caller,
            set_name,
            None,
            None,
            form=typed,
            status=status_for(exc),
            error=message_of(exc),
        )
    return remember_actor(redirect(f"/ui/test-sets/{set_name}", done="added"), actor)
