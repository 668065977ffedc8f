"""Who may do what: roles, prompt-name prefixes, principals, and the secrets' shapes.

Pure rules, no HTTP and no SQL. A principal is an API key (programs) or a person (the web
UI); each has one role and may be limited to prompts whose names start with given prefixes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Protocol

from promptdeck.errors import Forbidden, InvalidInput

# Each is the check and the OpenAPI document's `pattern` (spaces around are read too).
DURATION_REGEX = r"^\s*0*([1-9][0-9]{0,4})([mhdw])\s*$"
DURATION = re.compile(DURATION_REGEX)
PREFIX_REGEX = r"^\s*([a-z0-9][a-z0-9._-]{0,127})\s*$"
_PREFIX = re.compile(PREFIX_REGEX)
KEY_PREFIX = "pdk_"  # every key starts with it, so a leaked one is easy to grep for
KEY_ID_CHARS = 8  # the visible part after KEY_PREFIX that tells keys apart
PASSWORD_MIN = 10
PASSWORD_MAX = 1024


class Role(IntEnum):
    """Each role can do everything the roles below it can."""

    read = 1  # every GET, the hot path included
    write = 2  # create prompts and versions, edit, roll back, archive, restore
    admin = 3  # delete, purge, import, keys and users, the audit log

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value]
        except KeyError:
            raise InvalidInput(
                f"role must be one of {', '.join(r.name for r in cls)}", field="role"
            ) from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request: a key, a person, or nobody on an open server."""

    name: str
    role: Role
    kind: str  # "key", "user", "open", or "operator" (a command on the database itself)
    prefixes: tuple[str, ...] = ()
    id: int | None = None
    expires_at: datetime | None = None  # a key's expiry; for a person, their session's end
    session_id: int | None = None  # a person: the session the request came with

    def may(self, role: Role) -> bool:
        return self.role >= role

    def may_see(self, prompt_name: str) -> bool:
        """Whether the prompt's name falls within this principal's prefixes (none: all)."""
        return not self.prefixes or prompt_name.startswith(self.prefixes)

    @property
    def limited(self) -> bool:
        return bool(self.prefixes)

    def reaches(self, role: Role, prefixes: tuple[str, ...]) -> bool:
        """Whether this principal may create or revoke a key or person with ``role`` and
        ``prefixes``: no higher role than its own, and only prompts it reaches itself."""
        return role <= self.role and within(prefixes, self.prefixes)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


OPEN = Principal(name="anonymous", role=Role.admin, kind="open")
# Not signed in, on a closed server, on a page anyone may open (the sign-in page).
NOBODY = Principal(name="", role=Role.read, kind="nobody")
# Commands run on the database itself (``promptdeck keys create --database-url``): whoever
# can open the database file or log in to PostgreSQL holds everything already.
OPERATOR = Principal(name="cli", role=Role.admin, kind="operator")


def within(inner: tuple[str, ...], outer: tuple[str, ...]) -> bool:
    """Whether every prompt name that the prefixes ``inner`` allow, ``outer`` allows too.
    No prefixes means every prompt: ``("pub-a",)`` lies within ``("pub-",)``, and ``()``
    lies only within ``()``."""
    if not outer:
        return True
    return bool(inner) and all(p.startswith(outer) for p in inner)


class Reach(Protocol):
    """Who manages keys and people: a Principal, or the core's Caller (domain/caller.py)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def prefixes(self) -> tuple[str, ...]: ...


def check_first_is_admin(by: Reach, role: Role, what: str) -> None:
    """On an open server the first key or person must be an admin: once it exists the
    server needs keys, and without an admin nobody could make or revoke them again."""
    if by.kind == "open" and role is not Role.admin:
        raise InvalidInput(
            f"the first {what} on an open server must have the admin role: once it exists "
            "the server needs keys, and only an admin can make more",
            field="role",
        )


def check_within_reach(by: Reach, role: Role, prefixes: tuple[str, ...]) -> None:
    """Managing keys and people never widens power: ``by`` may make or revoke only what
    it ``reaches`` (docs/deployment.md, the threat model)."""
    if not (role <= by.role and within(prefixes, by.prefixes)):
        reach = f"prompts {', '.join(by.prefixes)}" if by.prefixes else "every prompt"
        raise Forbidden(
            f"{by.kind} {by.name!r} may make or revoke only keys and people with a role up "
            f"to {by.role.name} and prompts within its own ({reach})"
        )


@dataclass(frozen=True, slots=True)
class Account:
    """A key or a person as listed (never with its secret)."""

    id: int
    name: str
    kind: str
    role: Role
    prefixes: tuple[str, ...]
    key_prefix: str | None
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: ``secret`` is shown once and never stored."""

    account: Account
    secret: str = field(repr=False)


def check_name(name: str) -> str:
    """Letters and marks of any script, digits, and ``. _ @ -`` or single spaces inside."""
    ok = 1 <= len(name) <= 64 and name == name.strip() and "  " not in name
    ok = ok and unicodedata.category(name[0])[0] in "LN"
    ok = ok and all(unicodedata.category(c)[0] in "LMN" or c in "._@- " for c in name)
    if not ok or unicodedata.normalize("NFC", name) != name:
        raise InvalidInput(
            "a name is 1-64 letters of any script, digits, '.', '_', '@', '-' or single "
            "spaces, starting with a letter or digit",
            field="name",
        )
    return name


def check_prefixes(prefixes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for p in prefixes:
        match = _PREFIX.fullmatch(p)
        if match is None:
            raise InvalidInput(f"{p.strip()!r} is not a prompt-name prefix", field="prompts")
        out.append(match.group(1))
    return tuple(dict.fromkeys(out))


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m``, ``2w``: how long a key lives."""
    match = DURATION.fullmatch(text)
    if not match:
        raise InvalidInput("use a number and m, h, d or w, like 90d", field="expires")
    n, unit = int(match.group(1)), match.group(2)
    return {
        "m": timedelta(minutes=n),
        "h": timedelta(hours=n),
        "d": timedelta(days=n),
        "w": timedelta(weeks=n),
    }[unit]


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(
            f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters", field="password"
        )
    return password


def key_id_of(secret: str) -> str | None:
    """The visible part of a key (``pdk_XXXXXXXX``), or None if it is not shaped like one."""
    if not secret.startswith(KEY_PREFIX) or len(secret) < len(KEY_PREFIX) + KEY_ID_CHARS + 20:
        return None
    return secret[: len(KEY_PREFIX) + KEY_ID_CHARS]


@dataclass(frozen=True, slots=True)
class Throttle:
    """How failures of one subject (a name, an address) slow it down: ``free`` failures
    are answered at once; the ``free``-th and each one after it make the next attempt wait
    ``first``, doubled for each failure past ``free``, up to ``cap``. A ``window`` without
    failures starts the count again."""

    scope: str
    free: int
    window: timedelta
    first: timedelta
    cap: timedelta

    def wait_after(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 20)  # 2**20 s is past any cap
        wait: timedelta = self.first * (1 << doublings)
        return min(self.cap, wait)


# Wrong passwords per sign-in name (known or not: both count alike) and per client address;
# wrong API keys per client address (distinct keys: a stale key retried is answered from
# the process's cache and costs nothing). docs/deployment.md has these figures.
SIGN_IN_NAME = Throttle(
    "sign-in-name", 3, timedelta(minutes=15), timedelta(seconds=2), timedelta(minutes=5)
)
SIGN_IN_ADDRESS = Throttle(
    "sign-in-address", 20, timedelta(minutes=15), timedelta(seconds=2), timedelta(minutes=5)
)
KEY_ADDRESS = Throttle(
    "key-address", 20, timedelta(minutes=15), timedelta(seconds=2), timedelta(minutes=5)
)
