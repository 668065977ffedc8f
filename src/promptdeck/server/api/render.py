"""Domain records to wire models: the only place the faces shape output."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import Response
from pydantic import BaseModel

from promptdeck.core.compare import Comparison
from promptdeck.domain.models import Event, Include, Prompt, Version
from promptdeck.domain.models import Page as DomainPage
from promptdeck.domain.retention import StorageReport
from promptdeck.schemas import (
    ContractOut,
    EventOut,
    IncludeOut,
    Page,
    PromptOut,
    RenderOut,
    StorageOut,
    VersionDiffOut,
    VersionOut,
    VersionSummaryOut,
)


def prompt_out(prompt: Prompt) -> PromptOut:
    return PromptOut.model_validate(
        {
            "id": prompt.id,
            "name": prompt.name,
            "description": prompt.description,
            "tags": prompt.tags,
            "content": prompt.content,
            "model_config": prompt.model_config,
            "active_version": VersionSummaryOut.model_validate(prompt.active_version)
            if prompt.active_version
            else None,
            "version_count": prompt.version_count,
            "max_versions": prompt.max_versions,
            "etag": prompt.etag,
            "created_at": prompt.created_at,
            "updated_at": prompt.updated_at,
            "deleted_at": prompt.deleted_at,
        }
    )


def version_out(version: Version) -> VersionOut:
    """A version in full, its contract as reads show it (variables inferred when none)."""
    out = VersionOut.model_validate(version)
    return out.model_copy(update={"contract": ContractOut.of(version.full_contract)})


def diff_out(found: Comparison, context: int) -> VersionDiffOut:
    added, removed = found.stats()
    return VersionDiffOut.model_validate(
        {
            "prompt_id": found.new.prompt_id,
            "version_id": found.new.id,
            "against": found.old.id,
            "comparable": found.comparable,
            "diff": found.patch(context),
            "added": added,
            "removed": removed,
            "coarse": found.coarse(),
            "config_changes": [asdict(c) for c in found.config_changes()],
            "contract_changes": [asdict(c) for c in found.contract_changes],
            "breaking": found.breaking,
        }
    )


def rendered_out(
    prompt_name: str, version: Version, text: str | None, messages: Any, unused: list[str]
) -> RenderOut:
    contract = version.contract
    return RenderOut.model_validate(
        {
            "prompt_id": version.prompt_id,
            "prompt_name": prompt_name,
            "version": VersionSummaryOut.model_validate(version),
            "kind": version.kind,
            "text": text,
            "messages": messages,
            "model_config": version.model_config or {},
            "unused_variables": unused,
            "tools": list(contract.tools) if contract else [],
            "response_format": contract.response_format if contract else None,
        }
    )


def includes_out(rows: list[Include]) -> list[IncludeOut]:
    return [IncludeOut.model_validate(r) for r in rows]


def summary_page(page: DomainPage[Version]) -> Page[VersionSummaryOut]:
    return Page[VersionSummaryOut](
        items=[VersionSummaryOut.model_validate(v) for v in page.items],
        next_cursor=page.next_cursor,
    )


def prompt_page(page: DomainPage[Prompt]) -> Page[PromptOut]:
    return Page[PromptOut](items=[prompt_out(p) for p in page.items], next_cursor=page.next_cursor)


def event_page(page: DomainPage[Event]) -> Page[EventOut]:
    return Page[EventOut](
        items=[EventOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )


def storage_out(report: StorageReport) -> StorageOut:
    return StorageOut.model_validate(report)


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The model serialized once. A route that returns a Response skips FastAPI's second
    validation of its response_model, which then only documents the shape."""
    return Response(
        model.model_dump_json(by_alias=True),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )
