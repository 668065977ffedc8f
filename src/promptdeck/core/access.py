"""Keys, people and sessions: creating, listing, revoking, and checking them.

Every write bumps the access generation in the same transaction (store/access.py), which is
what lets each server process keep a cache of checked keys and sessions and still refuse a
revoked one at its very next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from promptdeck.core.tx import Connections
from promptdeck.domain import access as rules
from promptdeck.domain import rules as prompt_rules
from promptdeck.domain.access import Account, NewKey, Principal, Role
from promptdeck.domain.models import Event, Page
from promptdeck.errors import (
    AccountNameTaken,
    AccountNotFound,
    InvalidInput,
    TooManyAttempts,
    Unauthorized,
)
from promptdeck.limits import PAGE_LIMIT_MAX
from promptdeck.store import access as store
from promptdeck.store.access import PostgresGeneration as PostgresGeneration
from promptdeck.store.access import SQLiteDataVersion as SQLiteDataVersion
from promptdeck.store.queries import to_event

SESSION_LIFETIME = timedelta(days=7)
# argon2id at the library's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes).
_hasher = PasswordHasher()
# Verifying against this costs what a real check does, so an unknown name is not faster.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """An event of any prompt, with the prompt's name."""

    event: Event
    prompt_name: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: ``token`` goes in the cookie and is never stored."""

    principal: Principal
    token: str


def principal_of(row: Any) -> Principal:
    m = row._mapping
    return Principal(
        name=m["name"],
        role=Role[m["role"]],
        kind=m["kind"],
        prefixes=tuple(m["prefixes"] or ()),
        id=m["id"],
        expires_at=m["expires_at"],
    )


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_LIMIT_MAX}", field="limit")
    return limit


class Access(Connections):
    """Keys, people and sessions over one database."""

    # --- what every request asks -----------------------------------------------------------

    def generation(self) -> int:
        """Goes up with every change to keys, people and sessions; 0 until the first key or
        person is created (the server is open until then)."""
        with self._read() as conn:
            return store.generation(conn)

    def state(self) -> tuple[int, bool]:
        """(generation, whether any key or person was ever created)."""
        with self._read() as conn:
            return store.generation(conn), store.any_principal(conn)

    def check_key(self, secret: str) -> Principal | None:
        """The key's principal, or None for an unknown, malformed or revoked key (expiry is
        the caller's to check against its clock: it caches the answer)."""
        key_id = rules.key_id_of(secret)
        if key_id is None:
            return None
        with self._read() as conn:
            row = store.principal_by_key_id(conn, key_id)
        if row is None or row.kind != "key" or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(sha256_hex(secret), row.secret_hash):
            return None
        return principal_of(row)

    def check_session(self, token: str) -> tuple[Principal, datetime] | None:
        """The session's person and when the session ends, or None."""
        if not token or len(token) > 200:
            return None
        with self._read() as conn:
            row = store.session_with_principal(conn, sha256_hex(token))
        if row is None or row.revoked_at is not None:
            return None
        return principal_of(row), row.session_expires_at

    # --- keys ------------------------------------------------------------------------------

    def create_key(
        self,
        name: str,
        role: str,
        *,
        prefixes: list[str] | tuple[str, ...] = (),
        expires_in: str | None = None,
        actor: str = "cli",
    ) -> NewKey:
        """A new key; its secret is in the answer and nowhere else."""
        rules.check_name(name)
        now = self.clock()
        expires_at = now + rules.parse_duration(expires_in) if expires_in else None
        key_id = rules.KEY_PREFIX + secrets.token_hex(rules.KEY_ID_CHARS // 2)
        secret = f"{key_id}_{secrets.token_urlsafe(32)}"
        self._insert(
            {
                "name": name,
                "kind": "key",
                "role": Role.parse(role).name,
                "prefixes": list(rules.check_prefixes(prefixes)),
                "key_id": key_id,
                "secret_hash": sha256_hex(secret),
                "created_at": now,
                "created_by": actor,
                "expires_at": expires_at,
            }
        )
        return NewKey(self.get(name), secret)

    def _insert(self, values: dict[str, Any]) -> None:
        try:
            with self._write() as conn:
                store.insert_principal(conn, values)
                store.bump_generation(conn)
        except IntegrityError as exc:
            raise AccountNameTaken(
                f"the name {values['name']!r} is taken (names of keys and people are never "
                "reused, revoked ones included)",
                field="name",
            ) from exc

    def get(self, name: str) -> Account:
        with self._read() as conn:
            row = store.principal_by_name(conn, name)
        if row is None:
            raise AccountNotFound(f"no key or user {name!r}")
        return store.to_account(row)

    def list_accounts(
        self, kind: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Account]:
        _check_limit(limit)
        after = prompt_rules.decode_cursor(cursor) if cursor else None
        with self._read() as conn:
            rows = store.principal_page(conn, kind, after_id=after, limit=limit + 1)
        more = len(rows) > limit
        items = [store.to_account(r) for r in rows[:limit]]
        return Page(items, prompt_rules.encode_cursor(items[-1].id) if more and items else None)

    def revoke(self, name: str, kind: str) -> Account:
        """A key stops working, or a person can no longer sign in (their sessions end), on
        every server process at its next request. The row stays: history names it."""
        with self._write() as conn:
            row = store.principal_by_name(conn, name)
            if row is None or row.kind != kind:
                raise AccountNotFound(f"no {'key' if kind == 'key' else 'user'} {name!r}")
            if row.revoked_at is None:
                store.update_principal(conn, row.id, {"revoked_at": self.clock()})
                store.delete_sessions_of(conn, row.id)
                store.bump_generation(conn)
        return self.get(name)

    # --- people ----------------------------------------------------------------------------

    def create_user(
        self,
        name: str,
        role: str,
        password: str,
        *,
        prefixes: list[str] | tuple[str, ...] = (),
        actor: str = "cli",
    ) -> Account:
        rules.check_name(name)
        self._insert(
            {
                "name": name,
                "kind": "user",
                "role": Role.parse(role).name,
                "prefixes": list(rules.check_prefixes(prefixes)),
                "key_id": None,
                "secret_hash": _hasher.hash(rules.check_password(password)),
                "created_at": self.clock(),
                "created_by": actor,
            }
        )
        return self.get(name)

    def sign_in(self, name: str, password: str) -> SignedIn:
        """A new session for the right password. Wrong ones in a row make the name wait
        (rules.sign_in_delay); the wait is checked before the password."""
        now = self.clock()
        with self._read() as conn:
            row = store.principal_by_name(conn, name[:64])
        if row is None or row.kind != "user" or row.revoked_at is not None:
            _verify(_DUMMY_HASH, password)
            raise Unauthorized("wrong name or password")
        if row.locked_until is not None and now < row.locked_until:
            wait = int((row.locked_until - now).total_seconds()) + 1
            raise TooManyAttempts(
                f"too many wrong passwords for this name: try again in {wait} s",
                retry_after=wait,
            )
        if not _verify(row.secret_hash, password):
            failures = int(row.failed_sign_ins) + 1
            with self._write() as conn:
                store.update_principal(
                    conn,
                    row.id,
                    {
                        "failed_sign_ins": failures,
                        "locked_until": now + rules.sign_in_delay(failures),
                    },
                )
            raise Unauthorized("wrong name or password")
        token = secrets.token_urlsafe(32)
        with self._write() as conn:
            store.delete_expired_sessions(conn, now)
            store.insert_session(
                conn,
                {
                    "token_hash": sha256_hex(token),
                    "principal_id": row.id,
                    "created_at": now,
                    "expires_at": now + SESSION_LIFETIME,
                },
            )
            if row.failed_sign_ins:
                store.update_principal(conn, row.id, {"failed_sign_ins": 0, "locked_until": None})
        return SignedIn(principal_of(row), token)

    def sign_out(self, token: str) -> None:
        with self._write() as conn:
            store.delete_session(conn, sha256_hex(token))
            store.bump_generation(conn)

    # --- the history across prompts ----------------------------------------------------------

    def list_events(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        prompt: str | None = None,
        actor: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        prefixes: tuple[str, ...] = (),
    ) -> Page[AuditEvent]:
        """Every prompt's events, newest first, filtered; keyset-paginated on the event id."""
        _check_limit(limit)
        prompt_rules.check_filters(prompt=prompt, actor=actor, kind=kind)
        before = prompt_rules.decode_cursor(cursor) if cursor else None
        with self._read() as conn:
            rows = store.all_events_page(
                conn,
                before_id=before,
                limit=limit + 1,
                prompt=prompt,
                actor=actor,
                kind=kind,
                since=since,
                until=until,
                prefixes=prefixes,
            )
        more = len(rows) > limit
        items = [AuditEvent(to_event(r), r.prompt_name) for r in rows[:limit]]
        last = items[-1].event.id if more and items else None
        return Page(items, prompt_rules.encode_cursor(last) if last is not None else None)

    def prompt_name(self, ref: str) -> str | None:
        with self._read() as conn:
            return store.prompt_name(conn, ref)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
