"""Export and import of whole prompt histories (backups, moving between servers)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from promptdeck.schemas import ImportOut, PromptRecord
from promptdeck.server.api.prompts import PromptRef
from promptdeck.server.api.render import prompt_out
from promptdeck.server.deps import RegistryDep
from promptdeck.server.problems import responses

router = APIRouter(prefix="/prompts", tags=["transfer"], responses=responses(400, 413, 422))


@router.get(
    "/{prompt_id}/export",
    response_model=PromptRecord,
    response_model_by_alias=True,
    responses=responses(404),
    summary="The prompt's whole history: every version in full, every event",
)
def export_prompt(prompt_id: PromptRef, registry: RegistryDep) -> PromptRecord:
    return PromptRecord.model_validate(registry.export_prompt(prompt_id))


@router.post(
    "/import",
    response_model=ImportOut,
    responses=responses(409),
    summary="Write an exported history as it is (201 created, 200 if already identical)",
)
def import_prompt(body: PromptRecord, registry: RegistryDep, response: Response) -> ImportOut:
    prompt, created = registry.import_prompt(body.to_record())
    response.status_code = 201 if created else 200
    return ImportOut(created=created, prompt=prompt_out(prompt))
