"""/prompts: create, list, read, edit, delete, restore, purge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import AfterValidator

from promptdeck import limits
from promptdeck.domain import rules, values
from promptdeck.domain.commands import DeletePrompt, PurgePrompt, RestorePrompt
from promptdeck.schemas import EventOut, Page, PromptCreate, PromptOut, PromptPatch
from promptdeck.server.api.render import event_page, prompt_out, prompt_page
from promptdeck.server.deps import CheckedText, IdempotencyKey, IfMatch, RegistryDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingAdmin, ActingWriter, Admin, Reader

router = APIRouter(prefix="/prompts", tags=["prompts"], responses=responses(400, 413, 422))

PromptRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=limits.PROMPT_NAME_MAX,
        description="The prompt's integer id or its name.",
        examples=["support-reply"],
    ),
]
Limit = Annotated[int, Query(ge=1, le=limits.PAGE_LIMIT_MAX, description="Page size.")]
# A cursor's pattern is in the document; the core reads it (domain/rules.py, the same regex).
Cursor = Annotated[
    str | None,
    Query(
        max_length=limits.CURSOR_MAX,
        json_schema_extra={"pattern": rules.CURSOR_PATTERN},
        description="next_cursor of the previous page.",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=PromptOut,
    responses=responses(409),
    summary="Create a prompt and its first (active) version",
)
def create_prompt(
    body: PromptCreate,
    registry: RegistryDep,
    caller: ActingWriter,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PromptOut:
    created = registry.create_prompt(body.to_command(idempotency_key=idempotency_key), caller)
    response.headers["Location"] = f"/prompts/{created.prompt.id}"
    response.headers["ETag"] = created.prompt.etag
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return prompt_out(created.prompt)


@router.get(
    "",
    response_model=Page[PromptOut],
    summary="List prompts (oldest first): live ones, or with ?deleted=true the deleted ones",
)
def list_prompts(
    registry: RegistryDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
    q: Annotated[
        str | None,
        Query(max_length=limits.SEARCH_TEXT_MAX, description="Text in the name or description."),
        CheckedText,
    ] = None,
    tag: Annotated[
        str | None,
        Query(max_length=limits.TAG_MAX, description="Has this tag (compared after NFC)."),
        AfterValidator(values.lookup_name),
    ] = None,
    deleted: Annotated[
        bool,
        Query(
            description="true: only soft-deleted prompts, each with its deleted_at (restore one "
            "with POST /prompts/{prompt_id}/restore); false: only live prompts.",
            examples=[True],
            openapi_examples={"deleted": {"summary": "Only deleted prompts", "value": True}},
        ),
    ] = False,
) -> Page[PromptOut]:
    page = registry.list_prompts(
        caller, limit=limit, cursor=cursor, query=q, tag=tag, deleted=deleted
    )
    return prompt_page(page)


@router.get(
    "/{prompt_id}",
    response_model=PromptOut,
    responses=responses(404),
    summary="One prompt with its active version summary",
)
def get_prompt(
    prompt_id: PromptRef, registry: RegistryDep, caller: Reader, response: Response
) -> PromptOut:
    prompt = registry.get_prompt(prompt_id, caller)
    response.headers["ETag"] = prompt.etag
    return prompt_out(prompt)


@router.patch(
    "/{prompt_id}",
    response_model=PromptOut,
    responses=responses(404, 412),
    summary="Edit metadata or the working copy (never a version)",
)
def update_prompt(
    prompt_id: PromptRef,
    body: PromptPatch,
    registry: RegistryDep,
    caller: ActingWriter,
    response: Response,
    if_match: IfMatch = None,
) -> PromptOut:
    prompt = registry.update_prompt(body.to_command(prompt_id, if_match=if_match), caller)
    response.headers["ETag"] = prompt.etag
    return prompt_out(prompt)


@router.delete(
    "/{prompt_id}",
    status_code=204,
    responses=responses(404, 409, 412),
    summary="Soft-delete a prompt (restorable; versions kept); 409 if others include it",
)
def delete_prompt(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: ActingAdmin,
    if_match: IfMatch = None,
    force: Annotated[
        bool, Query(description="Delete it even though other prompts include it.")
    ] = False,
) -> Response:
    registry.delete_prompt(DeletePrompt(prompt_id, if_match, force), caller)
    return Response(status_code=204)


@router.post(
    "/{prompt_id}/restore",
    response_model=PromptOut,
    responses=responses(404, 409),
    summary="Undo a soft delete",
)
def restore_prompt(
    prompt_id: PromptRef, registry: RegistryDep, caller: ActingWriter, response: Response
) -> PromptOut:
    prompt = registry.restore_prompt(RestorePrompt(prompt_id), caller)
    response.headers["ETag"] = prompt.etag
    return prompt_out(prompt)


@router.post(
    "/{prompt_id}/purge",
    status_code=204,
    responses=responses(404, 409),
    summary="Hard-delete a soft-deleted prompt with all its versions and events",
)
def purge_prompt(prompt_id: PromptRef, registry: RegistryDep, caller: Admin) -> Response:
    registry.purge_prompt(PurgePrompt(prompt_id), caller)
    return Response(status_code=204)


@router.get(
    "/{prompt_id}/events",
    response_model=Page[EventOut],
    responses=responses(404),
    summary="The prompt's timeline, newest first: what happened, when, by whom",
)
def list_events(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[EventOut]:
    return event_page(registry.list_events(prompt_id, caller, limit=limit, cursor=cursor))
