"""Access: keys, people, the audit history across prompts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    Field,
)

from promptdeck.domain.access import DURATION_REGEX, PREFIX_REGEX
from promptdeck.schemas.common import _In, _Out
from promptdeck.schemas.prompts import EventOut

Role: Any = Field(
    description="read (every GET), write (create, edit, roll back, archive, restore) "
    "or admin (delete, purge, import, retention settings, keys and users).",
    pattern="^(read|write|admin)$",
)


Prefixes: Any = Field(
    default_factory=list,
    max_length=20,
    json_schema_extra={"items": {"type": "string", "pattern": PREFIX_REGEX}},
    description="Only prompts whose names start with one of these (none: every prompt).",
)


class KeyCreate(_In):
    name: str = Field(min_length=1, max_length=64, description="Names the key in the history.")
    role: str = Role
    prompts: list[str] = Prefixes
    expires: str | None = Field(
        default=None,
        max_length=8,
        json_schema_extra={"pattern": DURATION_REGEX},
        description="Lifetime, like 90d, 12h, 2w (none: forever).",
    )


class UserCreate(_In):
    name: str = Field(min_length=1, max_length=64, description="Sign-in name, in the history.")
    role: str = Role
    password: str = Field(min_length=10, max_length=1024)
    prompts: list[str] = Prefixes


class AccountOut(_Out):
    name: str
    kind: str = Field(description="key or user")
    role: str
    prompts: list[str] = Field(description="Prompt-name prefixes (empty: every prompt).")
    key_prefix: str | None = Field(
        description="The start of the key (pdk_…), to tell keys apart; the key itself is "
        "shown only once, when it is created."
    )
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(AccountOut):
    key: str = Field(description="The key. Shown this once; only its hash is stored.")


class AuditEventOut(EventOut):
    prompt_name: str
