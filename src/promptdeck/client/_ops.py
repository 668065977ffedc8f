"""Every API operation as a `Call`: written once, sent by `Client` and `AsyncClient`."""

from __future__ import annotations

import uuid
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from promptdeck.client._http import Call, seg
from promptdeck.domain.rollouts.split import HEADER, Split
from promptdeck.errors import ServerError
from promptdeck.schemas import (
    ActiveOut,
    DeployCreate,
    DeployDecision,
    DeployOut,
    EventOut,
    ImportOut,
    IncludeOut,
    LabelMoveOut,
    LabelOut,
    LabelPatch,
    LabelSet,
    MovedOut,
    Page,
    PromptCreate,
    PromptOut,
    PromptPatch,
    PromptRecord,
    RenderIn,
    RenderOut,
    RollbackOut,
    RunIn,
    RunOut,
    StorageOut,
    VersionCreate,
    VersionDiffOut,
    VersionOut,
    VersionPurge,
    VersionSummaryOut,
)

M = TypeVar("M", bound=BaseModel)


class Unset:
    """Marks an argument that was not given (``None`` can mean "clear")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()


def _model(cls: type[M]) -> Any:
    def parse(response: httpx.Response) -> M:
        return cls.model_validate_json(response.content)

    return parse


def _list(cls: type[M]) -> Any:
    adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]

    def parse(response: httpx.Response) -> list[M]:
        parsed: list[M] = adapter.validate_json(response.content)
        return parsed

    return parse


def _none(_response: httpx.Response) -> None:
    return None


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _if_match(etag: str | None) -> dict[str, str]:
    return {"If-Match": etag} if etag else {}


def _body(schema: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """A request body by its wire schema (field names and aliases are written once, in
    ``schemas/``), with the fields given. Not validated here: the server judges it, as it
    judges any client's."""
    built = schema.model_construct(**fields)
    return built.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)


def create_prompt(
    name: str,
    *,
    content: str,
    description: str,
    tags: list[str] | None,
    model_config: dict[str, Any] | None,
    version_name: str | None,
    version_description: str,
    max_versions: int | None,
    idempotency_key: str | None,
    messages: list[dict[str, Any]] | None = None,
    template_format: str | None = None,
    contract: dict[str, Any] | None = None,
) -> Call[PromptOut]:
    template = {"messages": messages, "template_format": template_format}
    body = _body(
        PromptCreate,
        name=name,
        content=content,
        description=description,
        tags=tags or [],
        llm_config=model_config or {},
        version_name=version_name,
        version_description=version_description,
        max_versions=max_versions,
        **{k: v for k, v in template.items() if v is not None},
    )
    if contract is not None:  # issue 23's contract, as the server defines it
        body["contract"] = contract
    return Call(
        "POST",
        "/prompts",
        _model(PromptOut),
        json=body,
        headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
        retry=True,
    )


def list_prompts(
    *,
    limit: int | None,
    cursor: str | None,
    q: str | None,
    tag: str | None,
    deleted: bool = False,
) -> Call[Page[PromptOut]]:
    return Call(
        "GET",
        "/prompts",
        _model(Page[PromptOut]),
        params=_params(
            limit=limit, cursor=cursor, q=q, tag=tag, deleted="true" if deleted else None
        ),
        retry=True,
    )


def get_prompt(prompt: str | int) -> Call[PromptOut]:
    return Call("GET", f"/prompts/{seg(prompt)}", _model(PromptOut), retry=True)


def update_prompt(
    prompt: str | int, changes: dict[str, Any], *, if_match: str | None
) -> Call[PromptOut]:
    return Call(
        "PATCH",
        f"/prompts/{seg(prompt)}",
        _model(PromptOut),
        json=changes,
        headers=_if_match(if_match),
    )


def patch_body(**fields: Any) -> dict[str, Any]:
    """A PromptPatch body with the fields given (None included: it clears max_versions)."""
    return _body(PromptPatch, **{k: v for k, v in fields.items() if not isinstance(v, Unset)})


def delete_prompt(prompt: str | int, *, if_match: str | None, force: bool = False) -> Call[None]:
    return Call(
        "DELETE",
        f"/prompts/{seg(prompt)}",
        _none,
        headers=_if_match(if_match),
        params={"force": "true"} if force else None,
    )


def restore_prompt(prompt: str | int) -> Call[PromptOut]:
    return Call("POST", f"/prompts/{seg(prompt)}/restore", _model(PromptOut))


def purge_prompt(prompt: str | int) -> Call[None]:
    return Call("POST", f"/prompts/{seg(prompt)}/purge", _none)


def list_events(
    prompt: str | int, *, limit: int | None, cursor: str | None
) -> Call[Page[EventOut]]:
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/events",
        _model(Page[EventOut]),
        params=_params(limit=limit, cursor=cursor),
        retry=True,
    )


def create_version(
    prompt: str | int,
    *,
    content: str | None,
    model_config: dict[str, Any] | None,
    version_name: str | None,
    description: str | None,
    activate: bool,
    idempotency_key: str | None,
    messages: list[dict[str, Any]] | None = None,
    template_format: str | None = None,
    if_changed: bool = False,
    contract: dict[str, Any] | None = None,
) -> Call[VersionOut]:
    given = {
        "content": content,
        "llm_config": model_config,
        "version_name": version_name,
        "description": description,
        "messages": messages,
        "kind": None if messages is None else "chat",
        "template_format": template_format,
        "if_changed": if_changed or None,
        "contract": contract,
    }
    body = _body(
        VersionCreate,
        activate=activate,
        **{k: v for k, v in given.items() if v is not None and k != "contract"},
    )
    if contract is not None:
        body["contract"] = contract
    return Call(
        "POST",
        f"/prompts/{seg(prompt)}/versions",
        _model(VersionOut),
        json=body,
        headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
        retry=True,
    )


def list_versions(
    prompt: str | int,
    *,
    limit: int | None,
    cursor: str | None,
    name: str | None,
    archived: bool | None = None,
) -> Call[Page[VersionSummaryOut]]:
    flag = None if archived is None else ("true" if archived else "false")
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/versions",
        _model(Page[VersionSummaryOut]),
        params=_params(limit=limit, cursor=cursor, name=name, archived=flag),
        retry=True,
    )


def get_version(prompt: str | int, version_id: int) -> Call[VersionOut]:
    return Call(
        "GET", f"/prompts/{seg(prompt)}/versions/{int(version_id)}", _model(VersionOut), retry=True
    )


def rollback(
    prompt: str | int, version_id: int, *, if_match: str | None, label: str | None = None
) -> Call[RollbackOut]:
    # Rolling back twice to one version is a no-op, so a retry is safe.
    return Call(
        "POST",
        f"/prompts/{seg(prompt)}/versions/{int(version_id)}/rollback",
        _model(RollbackOut),
        params=_params(label=label),
        headers=_if_match(if_match),
        retry=True,
    )


# --- labels and deploy requests ----------------------------------------------------------------


def list_labels(prompt: str | int) -> Call[list[LabelOut]]:
    def parse(response: httpx.Response) -> list[LabelOut]:
        return [LabelOut.model_validate(x) for x in response.json()]

    return Call("GET", f"/prompts/{seg(prompt)}/labels", parse, retry=True)


def get_label(prompt: str | int, label: str) -> Call[LabelOut]:
    return Call("GET", f"/prompts/{seg(prompt)}/labels/{seg(label)}", _model(LabelOut), retry=True)


def move_label(
    prompt: str | int, label: str, version_id: int, *, reason: str | None, if_match: str | None
) -> Call[MovedOut]:
    # A move to where the label is is a no-op, so a retry is safe (with If-Match, a retry
    # after a lost answer is 412: read the label to see whether it moved).
    return Call(
        "PUT",
        f"/prompts/{seg(prompt)}/labels/{seg(label)}",
        _model(MovedOut),
        json=_body(LabelSet, version_id=int(version_id), reason=reason),
        headers=_if_match(if_match),
        retry=True,
    )


def remove_label(
    prompt: str | int, label: str, *, reason: str | None, if_match: str | None
) -> Call[None]:
    return Call(
        "DELETE",
        f"/prompts/{seg(prompt)}/labels/{seg(label)}",
        _none,
        params=_params(reason=reason),
        headers=_if_match(if_match),
    )


def protect_label(prompt: str | int, label: str, protected: bool) -> Call[LabelOut]:
    return Call(
        "PATCH",
        f"/prompts/{seg(prompt)}/labels/{seg(label)}",
        _model(LabelOut),
        json=_body(LabelPatch, protected=protected),
        retry=True,
    )


def revert_label(prompt: str | int, label: str, *, if_match: str | None) -> Call[MovedOut]:
    # Not retried: a second revert would undo the first.
    return Call(
        "POST",
        f"/prompts/{seg(prompt)}/labels/{seg(label)}/revert",
        _model(MovedOut),
        headers=_if_match(if_match),
    )


def label_history(
    prompt: str | int, label: str | None, *, limit: int | None, cursor: str | None
) -> Call[Page[LabelMoveOut]]:
    path = f"/labels/{seg(label)}/history" if label is not None else "/deploys"
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}{path}",
        _model(Page[LabelMoveOut]),
        params=_params(limit=limit, cursor=cursor),
        retry=True,
    )


def propose_deploy(
    prompt: str | int,
    label: str,
    version_id: int,
    *,
    reason: str,
    plan: dict[str, Any] | None = None,
) -> Call[DeployOut]:
    body = _body(DeployCreate, label=label, version_id=int(version_id), reason=reason)
    if plan is not None:
        body["plan"] = plan
    return Call("POST", f"/prompts/{seg(prompt)}/deploy-requests", _model(DeployOut), json=body)


def get_deploy(prompt: str | int, request_id: int) -> Call[DeployOut]:
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/deploy-requests/{int(request_id)}",
        _model(DeployOut),
        retry=True,
    )


def list_deploys(
    prompt: str | int, *, status: str | None, limit: int | None, cursor: str | None
) -> Call[Page[DeployOut]]:
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/deploy-requests",
        _model(Page[DeployOut]),
        params=_params(status=status, limit=limit, cursor=cursor),
        retry=True,
    )


def decide_deploy(
    prompt: str | int,
    request_id: int,
    *,
    approve: bool,
    reason: str | None,
    override_gate: bool = False,
) -> Call[DeployOut]:
    verb = "approve" if approve else "reject"
    extra = {"override_gate": True} if override_gate else {}
    return Call(
        "POST",
        f"/prompts/{seg(prompt)}/deploy-requests/{int(request_id)}/{verb}",
        _model(DeployOut),
        json=_body(DeployDecision, reason=reason, **extra),
    )


# Archive, restore and purge are no-ops when repeated (the server answers with the version as
# it now is), so a retry is safe.


def archive_version(prompt: str | int, version_id: int) -> Call[VersionOut]:
    return Call(
        "POST",
        f"/prompts/{seg(prompt)}/versions/{int(version_id)}/archive",
        _model(VersionOut),
        retry=True,
    )


def restore_version(prompt: str | int, version_id: int) -> Call[VersionOut]:
    return Call(
        "POST",
        f"/prompts/{seg(prompt)}/versions/{int(version_id)}/restore",
        _model(VersionOut),
        retry=True,
    )


def purge_version(prompt: str | int, version_id: int, *, reason: str) -> Call[VersionOut]:
    return Call(
        "DELETE",
        f"/prompts/{seg(prompt)}/versions/{int(version_id)}",
        _model(VersionOut),
        json=_body(VersionPurge, reason=reason),
        retry=True,
    )


def get_storage(prompt: str | int) -> Call[StorageOut]:
    return Call("GET", f"/prompts/{seg(prompt)}/storage", _model(StorageOut), retry=True)


def fetch_active(
    prompt: str | int,
    *,
    etag: str | None,
    timeout: float | None = None,
    label: str | None = None,
    key: str | None = None,
) -> Call[tuple[ActiveOut | None, str | None, Split | None]]:
    """The active version (or the one ``label`` serves; during its rollout, the one ``key``
    is assigned), the server's ETag for it and the label's split (the Promptdeck-Rollout
    header; None without a rollout); ``None`` for the version when the server answers 304
    to ``etag``."""

    def parse(response: httpx.Response) -> tuple[ActiveOut | None, str | None, Split | None]:
        header = response.headers.get(HEADER)
        try:
            split = Split.parse(header) if header is not None else None
        except ValueError as exc:
            raise ServerError(f"an unreadable {HEADER} header: {exc}") from exc
        if response.status_code == 304:
            return None, etag, split
        value = ActiveOut.model_validate_json(response.content)
        return value, response.headers.get("etag"), split

    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/active",
        parse,
        params=_params(label=label, key=key),
        headers={"If-None-Match": etag} if etag else {},
        retry=True,
        ok=(200, 304),
        timeout=timeout,
    )


def export_prompt(prompt: str | int) -> Call[PromptRecord]:
    return Call("GET", f"/prompts/{seg(prompt)}/export", _model(PromptRecord), retry=True)


def export_prompts(*, limit: int | None, cursor: str | None) -> Call[Page[PromptRecord]]:
    return Call(
        "GET",
        "/export",
        _model(Page[PromptRecord]),
        params=_params(limit=limit, cursor=cursor),
        retry=True,
    )


def import_prompt(record: PromptRecord | dict[str, Any]) -> Call[ImportOut]:
    body = record.to_record() if isinstance(record, PromptRecord) else record
    from pydantic_core import to_jsonable_python

    # Importing the same record twice is a no-op, so a retry is safe.
    return Call(
        "POST",
        "/prompts/import",
        _model(ImportOut),
        json=to_jsonable_python(body),
        retry=True,
    )


def health() -> Call[dict[str, Any]]:
    def parse(response: httpx.Response) -> dict[str, Any]:
        data: dict[str, Any] = response.json()
        return data

    return Call("GET", "/healthz", parse, retry=True)


def render(
    prompt: str | int, variables: dict[str, Any], *, version: int | str | None
) -> Call[RenderOut]:
    # Rendering writes nothing: a retry is safe.
    at = {} if version is None else {"version": str(version)}
    body = _body(RenderIn, variables=variables, **at)
    return Call("POST", f"/prompts/{seg(prompt)}/render", _model(RenderOut), json=body, retry=True)


def run(
    prompt: str | int,
    variables: dict[str, Any],
    *,
    provider: str,
    model: str | None,
    version_id: int | None,
    draft: dict[str, Any] | None,
    timeout: float,
) -> Call[RunOut]:
    # Never sent twice: a run costs the provider's money and is recorded.
    fields: dict[str, Any] = {"variables": variables, "provider": provider}
    for key, value in (("model", model), ("version_id", version_id), ("draft", draft)):
        if value is not None:
            fields[key] = value
    body = _body(RunIn, **fields)
    return Call("POST", f"/prompts/{seg(prompt)}/run", _model(RunOut), json=body, timeout=timeout)


def diff_versions(
    prompt: str | int, version_id: int, against: int, *, context: int = 3
) -> Call[VersionDiffOut]:
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/versions/{int(version_id)}/diff",
        _model(VersionDiffOut),
        params={"against": int(against), "context": int(context)},
        retry=True,
    )


def includes(prompt: str | int, version_id: int, which: str) -> Call[list[IncludeOut]]:
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/versions/{int(version_id)}/{which}",
        _list(IncludeOut),
        retry=True,
    )
