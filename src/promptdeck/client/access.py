"""Keys, people and the history across prompts as `Call`s: the client's admin methods
(``_async/admin.py``) send these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from promptdeck.client._http import Call, seg
from promptdeck.client._ops import _model, _params
from promptdeck.schemas import AccountOut, AuditEventOut, KeyCreated, Page


def create_key(
    name: str, role: str, *, prompts: list[str], expires: str | None
) -> Call[KeyCreated]:
    body: dict[str, Any] = {"name": name, "role": role, "prompts": prompts, "expires": expires}
    return Call("POST", "/keys", _model(KeyCreated), json=body, ok=(201,))


def list_accounts(kind: str, *, limit: int | None, cursor: str | None) -> Call[Page[AccountOut]]:
    path = "/keys" if kind == "key" else "/users"
    return Call(
        "GET",
        path,
        _model(Page[AccountOut]),
        params=_params(limit=limit, cursor=cursor),
        retry=True,
    )


def revoke(kind: str, name: str) -> Call[AccountOut]:
    path = f"/keys/{seg(name)}" if kind == "key" else f"/users/{seg(name)}"
    return Call("DELETE", path, _model(AccountOut), retry=True)


def create_user(name: str, role: str, password: str, *, prompts: list[str]) -> Call[AccountOut]:
    body = {"name": name, "role": role, "password": password, "prompts": prompts}
    return Call("POST", "/users", _model(AccountOut), json=body, ok=(201,))


def list_events(
    *,
    limit: int | None,
    cursor: str | None,
    prompt: str | None = None,
    actor: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Call[Page[AuditEventOut]]:
    params = _params(
        limit=limit,
        cursor=cursor,
        prompt=prompt,
        actor=actor,
        kind=kind,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
    )
    return Call("GET", "/events", _model(Page[AuditEventOut]), params=params, retry=True)
