"""Export and import of whole prompt histories (backups, moving between servers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from promptdeck import limits
from promptdeck.schemas import (
    EventRecord,
    ImportOut,
    Page,
    PromptImport,
    PromptRecord,
    VersionRecord,
)
from promptdeck.server.api.prompts import Cursor, PromptRef
from promptdeck.server.api.render import prompt_out
from promptdeck.server.deps import RegistryDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import Admin, Reader

router = APIRouter(tags=["transfer"], responses=responses(400, 413, 422))


@router.get(
    "/prompts/{prompt_id}/export",
    response_model=PromptRecord,
    response_model_by_alias=True,
    responses=responses(404),
    summary="The prompt's whole history: every version in full, every event",
)
def export_prompt(prompt_id: PromptRef, registry: RegistryDep, caller: Reader) -> Response:
    # Streamed a batch of versions at a time: memory stays bounded whatever the history.
    pieces = registry.export_prompt_stream(prompt_id, caller, encode_record_part)
    return StreamingResponse(pieces, media_type="application/json")


class _LabelsPart(BaseModel):
    """The labels' keys of a record (core/transfer.py export_labels), written as they are."""

    model_config = ConfigDict(extra="allow")


_PARTS: dict[str, type[BaseModel]] = {
    "head": PromptRecord,
    "version": VersionRecord,
    "event": EventRecord,
    "labels": _LabelsPart,
}


def encode_record_part(part: str, values: dict[str, Any]) -> bytes:
    """A part of an export record as the non-streamed record would write it."""
    if part == "head":
        values = {**values, "versions": [], "events": []}
    return _PARTS[part].model_validate(values).model_dump_json(by_alias=True).encode()


@router.post(
    "/prompts/import",
    response_model=ImportOut,
    responses=responses(409),
    summary="Write an exported history as it is (201 created, 200 if already identical)",
)
def import_prompt(
    body: PromptImport, registry: RegistryDep, caller: Admin, response: Response
) -> ImportOut:
    prompt, created = registry.import_prompt(body.to_command(), caller)
    response.status_code = 201 if created else 200
    return ImportOut(created=created, prompt=prompt_out(prompt))


@router.get(
    "/export",
    response_model=Page[PromptRecord],
    response_model_by_alias=True,
    summary="Every prompt's whole history (deleted ones included), a page at a time",
)
def export_prompts(
    registry: RegistryDep,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_LIMIT_MAX, description="Page size.")] = 20,
    cursor: Cursor = None,
) -> Response:
    # Streamed one prompt and one batch of its versions at a time (bounded memory); a key
    # limited to prefixes gets only its prompts (a page may then hold fewer items).
    pieces = registry.export_prompts_stream(caller, encode_record_part, limit=limit, cursor=cursor)
    return StreamingResponse(pieces, media_type="application/json")
