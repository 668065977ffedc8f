"""/prompts/{prompt_id}/versions: the specification's endpoints, reading one version, and
retention (archive, restore, purge) with the prompt's storage report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import AfterValidator

from promptdeck import limits
from promptdeck.domain import values
from promptdeck.domain.commands import ArchiveVersion, RestoreVersion, Rollback
from promptdeck.domain.labels import LABEL_MAX, LABEL_REGEX
from promptdeck.schemas import (
    Page,
    RollbackOut,
    StorageOut,
    VersionCreate,
    VersionDiffOut,
    VersionOut,
    VersionPurge,
    VersionSummaryOut,
)
from promptdeck.server.api.prompts import Cursor, Limit, PromptRef
from promptdeck.server.api.render import (
    diff_out,
    json_response,
    prompt_out,
    storage_out,
    summary_page,
    version_out,
)
from promptdeck.server.deps import (
    AcceptBreaking,
    CanonicalId,
    IdempotencyKey,
    IfMatch,
    RegistryDep,
)
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingAdmin, ActingWriter, Reader

router = APIRouter(
    prefix="/prompts/{prompt_id}", tags=["versions"], responses=responses(400, 404, 422)
)

VersionId = Annotated[
    int, Path(ge=1, le=limits.ID_MAX, description="The version's id."), CanonicalId
]


@router.post(
    "/versions",
    status_code=201,
    response_model=VersionOut,
    responses={
        200: {"model": VersionOut, "description": "if_changed, and nothing changed: the latest"},
        **responses(409, 413),
    },
    summary="Create a new version (the active version does not change unless activate)",
    description="201 with the new version; with if_changed and nothing changed, 200 with "
    "the latest version.",
)
def create_version(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: ActingWriter,
    body: VersionCreate | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    cmd = (body or VersionCreate()).to_command(prompt_id, idempotency_key=idempotency_key)
    created = registry.create_version(cmd, caller)
    version = created.version
    headers = {"Location": f"/prompts/{version.prompt_id}/versions/{version.id}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    status = 200 if created.unchanged else 201
    return json_response(version_out(version), status_code=status, headers=headers)


@router.get(
    "/versions",
    response_model=Page[VersionSummaryOut],
    summary="Version history, newest first, with descriptions and timestamps",
)
def list_versions(
    prompt_id: PromptRef,
    registry: RegistryDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
    name: Annotated[
        str | None,
        Query(max_length=limits.VERSION_NAME_MAX, description="Only the version with this name."),
        AfterValidator(values.lookup_name),
    ] = None,
    archived: Annotated[
        bool | None,
        Query(description="true: only archived versions; false: only unarchived; omitted: all."),
    ] = None,
) -> Response:
    return json_response(
        summary_page(
            registry.list_versions(
                prompt_id, caller, limit=limit, cursor=cursor, name=name, archived=archived
            )
        )
    )


@router.get("/versions/{version_id}", response_model=VersionOut, summary="One version in full")
def get_version(
    prompt_id: PromptRef, version_id: VersionId, registry: RegistryDep, caller: Reader
) -> Response:
    return json_response(version_out(registry.get_version(prompt_id, version_id, caller)))


@router.get(
    "/versions/{version_id}/diff",
    response_model=VersionDiffOut,
    summary="What changed from ?against= to this version: the text diff, the model config's "
    "changes and the contract's, each breaking or compatible",
)
def diff_versions(
    prompt_id: PromptRef,
    version_id: VersionId,
    registry: RegistryDep,
    caller: Reader,
    against: Annotated[
        int,
        Query(ge=1, le=limits.ID_MAX, description="The version compared with (the old side)."),
        CanonicalId,
    ],
    context: Annotated[
        int, Query(ge=0, le=limits.DIFF_CONTEXT_MAX, description="Lines of context.")
    ] = 3,
) -> VersionDiffOut:
    return diff_out(registry.compare(prompt_id, version_id, against, caller), context)


@router.post(
    "/versions/{version_id}/rollback",
    response_model=RollbackOut,
    responses=responses(403, 409, 412),
    summary="Make this version active, or ?label= point that label at it (deletes nothing)",
)
def rollback(
    prompt_id: PromptRef,
    version_id: VersionId,
    registry: RegistryDep,
    caller: ActingWriter,
    response: Response,
    if_match: IfMatch = None,
    label: Annotated[
        str | None,
        Query(
            max_length=LABEL_MAX,
            json_schema_extra={"pattern": LABEL_REGEX},
            description="Point this label at the version instead of active (If-Match is then "
            "the label's ETag).",
        ),
    ] = None,
    accept_breaking: AcceptBreaking = False,
) -> RollbackOut:
    cmd = Rollback(prompt_id, version_id, if_match, label, accept_breaking)
    result = registry.rollback(cmd, caller)
    response.headers["ETag"] = result.prompt.etag
    return RollbackOut(
        changed=result.changed,
        prompt=prompt_out(result.prompt),
        version=version_out(result.version),
    )


@router.post(
    "/versions/{version_id}/archive",
    response_model=VersionOut,
    responses=responses(409),
    summary="Archive a version by hand (kept in history, restorable; never the active one)",
)
def archive_version(
    prompt_id: PromptRef, version_id: VersionId, registry: RegistryDep, caller: ActingWriter
) -> VersionOut:
    archived = registry.archive_version(ArchiveVersion(prompt_id, version_id), caller)
    return version_out(archived.version)


@router.post(
    "/versions/{version_id}/restore",
    response_model=VersionOut,
    responses=responses(409),
    summary="Restore an archived version (exact content; the limit archives the oldest others)",
)
def restore_version(
    prompt_id: PromptRef, version_id: VersionId, registry: RegistryDep, caller: ActingWriter
) -> VersionOut:
    restored = registry.restore_version(RestoreVersion(prompt_id, version_id), caller)
    return version_out(restored.version)


@router.delete(
    "/versions/{version_id}",
    response_model=VersionOut,
    responses=responses(409),
    summary="Purge a version: destroy its content for good, keep a tombstone (who, when, why)",
    description="409 while an unpurged version includes it pinned (by number or name).",
)
def purge_version(
    prompt_id: PromptRef,
    version_id: VersionId,
    registry: RegistryDep,
    caller: ActingAdmin,
    body: Annotated[VersionPurge, Body()],
) -> VersionOut:
    return version_out(
        registry.purge_version(body.to_command(prompt_id, version_id), caller).version
    )


@router.get(
    "/storage",
    response_model=StorageOut,
    summary="Storage of the prompt's history: versions, archived, raw and stored bytes",
)
def storage(prompt_id: PromptRef, registry: RegistryDep, caller: Reader) -> StorageOut:
    return storage_out(registry.storage(prompt_id, caller))
