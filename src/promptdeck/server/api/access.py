"""/keys, /users (admin) and /events: who may do what, and what everyone did."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from promptdeck import limits
from promptdeck.core.access import AuditEvent
from promptdeck.domain.access import Account
from promptdeck.domain.models import Page as DomainPage
from promptdeck.schemas import (
    AccountOut,
    AuditEventOut,
    IsoDatetime,
    KeyCreate,
    KeyCreated,
    Page,
    UserCreate,
)
from promptdeck.server.api.prompts import Cursor, Limit
from promptdeck.server.deps import AccessDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingAdmin, Admin, Reader

router = APIRouter(tags=["access"], responses=responses(400, 401, 403, 422))

AccountName = Annotated[str, Path(min_length=1, max_length=64, description="The key's name.")]


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        name=account.name,
        kind=account.kind,
        role=account.role.name,
        prompts=list(account.prefixes),
        key_prefix=account.key_prefix,
        created_at=account.created_at,
        created_by=account.created_by,
        expires_at=account.expires_at,
        revoked_at=account.revoked_at,
    )


def account_page(page: DomainPage[Account]) -> Page[AccountOut]:
    return Page[AccountOut](
        items=[account_out(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/keys",
    status_code=201,
    response_model=KeyCreated,
    responses=responses(409),
    summary="Create an API key (admin, no wider than the caller); the key is in this answer only",
)
def create_key(body: KeyCreate, access: AccessDep, caller: ActingAdmin) -> KeyCreated:
    new = access.create_key(
        body.name,
        body.role,
        prefixes=body.prompts,
        expires_in=body.expires,
        actor=caller.actor,
        by=caller,
    )
    return KeyCreated(**account_out(new.account).model_dump(), key=new.secret)


@router.get(
    "/keys",
    response_model=Page[AccountOut],
    summary="API keys within the caller's reach, oldest first (admin)",
)
def list_keys(
    access: AccessDep,
    caller: Admin,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[AccountOut]:
    return account_page(access.list_accounts("key", limit=limit, cursor=cursor, by=caller))


@router.delete(
    "/keys/{name}",
    response_model=AccountOut,
    responses=responses(404),
    summary="Revoke a key (admin, within the caller's reach): refused by every server process "
    "from its next request",
)
def revoke_key(name: AccountName, access: AccessDep, caller: Admin) -> AccountOut:
    return account_out(access.revoke(name, "key", by=caller))


@router.post(
    "/users",
    status_code=201,
    response_model=AccountOut,
    responses=responses(409),
    summary="Create a person who signs in to the web UI (admin, no wider than the caller)",
)
def create_user(body: UserCreate, access: AccessDep, caller: ActingAdmin) -> AccountOut:
    return account_out(
        access.create_user(
            body.name,
            body.role,
            body.password,
            prefixes=body.prompts,
            actor=caller.actor,
            by=caller,
        )
    )


@router.get(
    "/users",
    response_model=Page[AccountOut],
    summary="People within the caller's reach, oldest first (admin)",
)
def list_users(
    access: AccessDep,
    caller: Admin,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[AccountOut]:
    return account_page(access.list_accounts("user", limit=limit, cursor=cursor, by=caller))


@router.delete(
    "/users/{name}",
    response_model=AccountOut,
    responses=responses(404),
    summary="Revoke a person (admin, within the caller's reach): their sessions end, they "
    "cannot sign in again",
)
def revoke_user(name: AccountName, access: AccessDep, caller: Admin) -> AccountOut:
    return account_out(access.revoke(name, "user", by=caller))


def audit_page(page: DomainPage[AuditEvent]) -> Page[AuditEventOut]:
    return Page[AuditEventOut](
        items=[
            AuditEventOut.model_validate({**vars_of(item), "prompt_name": item.prompt_name})
            for item in page.items
        ],
        next_cursor=page.next_cursor,
    )


def vars_of(item: AuditEvent) -> dict[str, object]:
    e = item.event
    return {
        "id": e.id,
        "prompt_id": e.prompt_id,
        "kind": e.kind,
        "version_id": e.version_id,
        "from_version_id": e.from_version_id,
        "actor": e.actor,
        "created_at": e.created_at,
        "detail": e.detail,
    }


@router.get(
    "/events",
    response_model=Page[AuditEventOut],
    summary="Every prompt's history, newest first: filter by prompt, actor, kind and time",
)
def list_all_events(
    access: AccessDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
    prompt: Annotated[
        str | None, Query(max_length=limits.PROMPT_NAME_MAX, description="A prompt's id or name.")
    ] = None,
    actor: Annotated[
        str | None, Query(max_length=limits.ACTOR_MAX, description="A key's or person's name.")
    ] = None,
    kind: Annotated[
        str | None,
        Query(max_length=40, description="An event kind; ending in '.' (version.) a family."),
    ] = None,
    since: Annotated[IsoDatetime | None, Query(description="At or after (ISO 8601).")] = None,
    until: Annotated[IsoDatetime | None, Query(description="Before (ISO 8601).")] = None,
) -> Page[AuditEventOut]:
    return audit_page(
        access.list_events(
            limit=limit,
            cursor=cursor,
            prompt=prompt,
            actor=actor,
            kind=kind,
            since=since,
            until=until,
            prefixes=caller.prefixes,
        )
    )
