"""Keys, people and sessions: creating, listing, revoking, and checking them.

Every write bumps the access generation in the same transaction (store/access.py), which is
what lets each server process keep a cache of checked keys and sessions and still refuse a
revoked one at its very next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from promptdeck.core import throttle
from promptdeck.core.content import ContentStore
from promptdeck.core.tx import Clock, Database, utcnow
from promptdeck.domain import access as rules
from promptdeck.domain import rules as prompt_rules
from promptdeck.domain.access import (
    KEY_ADDRESS,
    OPERATOR,
    SIGN_IN_ADDRESS,
    SIGN_IN_NAME,
    Account,
    NewKey,
    Principal,
    Role,
    Throttle,
)
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.models import Event, Page
from promptdeck.errors import (
    AccountNameTaken,
    AccountNotFound,
    TooManyAttempts,
    Unauthorized,
)
from promptdeck.store import access as store
from promptdeck.store.access import PostgresGeneration as PostgresGeneration
from promptdeck.store.access import SQLiteDataVersion as SQLiteDataVersion
from promptdeck.store.records import PrincipalRow

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


def _principal(row: PrincipalRow, **extra: Any) -> Principal:
    return Principal(
        name=row.name,
        role=Role[row.role],
        kind=row.kind,
        prefixes=row.prefixes,
        id=row.id,
        expires_at=row.expires_at,
        **extra,
    )


class Access:
    """Keys, people and sessions over one database, each operation one transaction of
    ``core/tx.py`` (writes through the store's write queue)."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self.db = Database(engine, clock, ContentStore(), None)
        self._key_waits = throttle.Memo()
        self._wrong_keys: set[str] = set()  # SHA-256 of keys found wrong (revoked: for good)

    # --- what every request asks -----------------------------------------------------------

    def generation(self) -> int:
        """Goes up with every change to keys, people and sessions; 0 until the first key or
        person is created (the server is open until then)."""
        with self.db.reading(SYSTEM) as tx:
            return store.generation(tx.conn)

    def state(self) -> tuple[int, bool]:
        """(generation, whether any key or person exists)."""
        with self.db.reading(SYSTEM) as tx:
            return store.generation(tx.conn), store.any_principal(tx.conn)

    def had_access(self) -> datetime | None:
        """When the first key or person was created, if one ever was: kept through
        downgrades and lost rows, so a database that had keys is not served open unasked."""
        with self.db.reading(SYSTEM) as tx:
            return store.had_access(tx.conn)

    def check_key(self, secret: str, address: str | None = None) -> Principal | None:
        """The key's principal, or None for an unknown, malformed or revoked key (expiry is
        the caller's to check against its clock: it caches the answer). With the client's
        ``address``, wrong keys are counted (KEY_ADDRESS: each one once a process, since a
        wrong key never becomes right) and an address that must wait is refused
        (TooManyAttempts) before the key is looked at."""
        digest = sha256_hex(secret)
        if digest in self._wrong_keys:
            return None
        key_id = rules.key_id_of(secret)
        now = self.clock()
        with self.db.reading(SYSTEM) as tx:
            if address is not None:
                self._waiting(tx.conn, KEY_ADDRESS, address, now)
            row = store.principal_by_key_id(tx.conn, key_id) if key_id else None
        usable = row is not None and row.kind == "key" and row.revoked_at is None
        if row is not None and usable and hmac.compare_digest(digest, row.secret_hash):
            return _principal(row)
        if len(self._wrong_keys) >= throttle.MEMO_MAX:
            self._wrong_keys.clear()
        self._wrong_keys.add(digest)
        if address is not None:
            self._count(KEY_ADDRESS, address, now)
        return None

    def key_wait(self, address: str) -> None:
        """Raise TooManyAttempts, without a database read, if this process already knows
        that ``address`` must wait before another key is checked."""
        self._key_waits.check(address, self.clock())

    def _waiting(self, conn: Connection, policy: Throttle, value: str, now: datetime) -> None:
        try:
            throttle.waiting(conn, policy, value, now)
        except TooManyAttempts as exc:
            self._key_waits.remember(value, exc.extra["until"])
            raise

    def _count(self, policy: Throttle, value: str, now: datetime) -> None:
        try:
            with self.db.writing(SYSTEM) as tx:
                throttle.charge(tx.conn, [(policy, value)], now)
        except TooManyAttempts as exc:  # another request made it wait meanwhile
            self._key_waits.remember(value, exc.extra["until"])

    def check_session(self, token: str) -> tuple[Principal, datetime] | None:
        """The session's person (``expires_at``: the session's end) and when the session
        ends, or None."""
        if not token or len(token) > 200:
            return None
        with self.db.reading(SYSTEM) as tx:
            found = store.session_with_principal(tx.conn, sha256_hex(token))
        if found is None or found.principal.revoked_at is not None:
            return None
        person = _principal(found.principal, session_id=found.id)
        return replace(person, expires_at=found.expires_at), found.expires_at

    def standing(self, principal: Principal) -> bool:
        """Whether what let ``principal`` in still holds: its key or person not revoked nor
        expired, its session not ended; an open server still open."""
        if principal.expired(self.clock()):
            return False
        with self.db.reading(SYSTEM) as tx:
            if principal.kind == "open":
                return store.generation(tx.conn) == 0
            if principal.id is None:
                return principal.kind == "operator"
            row = store.principal_by_id(tx.conn, principal.id)
            if row is None or row.revoked_at is not None:
                return False
            if principal.session_id is not None:
                return store.session_exists(tx.conn, principal.session_id)
            return True

    # --- keys ------------------------------------------------------------------------------

    def create_key(
        self,
        name: str,
        role: str,
        *,
        prefixes: list[str] | tuple[str, ...] = (),
        expires_in: str | None = None,
        actor: str = "cli",
        by: rules.Reach = OPERATOR,
    ) -> NewKey:
        """A new key; its secret is in the answer and nowhere else. ``by`` may give no
        more than it has (role and prompts)."""
        rules.check_name(name)
        wanted, limited = Role.parse(role), rules.check_prefixes(prefixes)
        rules.check_first_is_admin(by, wanted, "key")
        rules.check_within_reach(by, wanted, limited)
        now = self.clock()
        expires_at = now + rules.parse_duration(expires_in) if expires_in else None
        key_id = rules.KEY_PREFIX + secrets.token_hex(rules.KEY_ID_CHARS // 2)
        secret = f"{key_id}_{secrets.token_urlsafe(32)}"
        account = self._insert(
            {
                "name": name,
                "kind": "key",
                "role": wanted.name,
                "prefixes": list(limited),
                "key_id": key_id,
                "secret_hash": sha256_hex(secret),
                "created_at": now,
                "created_by": actor,
                "expires_at": expires_at,
            }
        )
        return NewKey(account, secret)

    def _insert(self, values: dict[str, Any]) -> Account:
        try:
            with self.db.writing(SYSTEM) as tx:
                store.insert_principal(tx.conn, values)
                store.bump_generation(tx.conn)
                store.mark_access(tx.conn, values["created_at"])
                row = store.principal_by_name(tx.conn, values["name"])
        except IntegrityError as exc:
            raise AccountNameTaken(
                f"the name {values['name']!r} is taken (names of keys and people are never "
                "reused, revoked ones included)",
                field="name",
            ) from exc
        assert row is not None
        return store.to_account(row)

    def get(self, name: str) -> Account:
        with self.db.reading(SYSTEM) as tx:
            row = store.principal_by_name(tx.conn, name)
        if row is None:
            raise AccountNotFound(f"no key or user {name!r}")
        return store.to_account(row)

    def list_accounts(
        self, kind: str, *, limit: int = 50, cursor: str | None = None, by: rules.Reach = OPERATOR
    ) -> Page[Account]:
        """Keys or people, oldest first: only those ``by`` could revoke (no higher role,
        prompts within its own), so a limited admin sees only what it manages."""
        prompt_rules.check_limit(limit)
        after = prompt_rules.decode_cursor(cursor) if cursor else None
        roles = [r.name for r in Role if r <= by.role]
        found: list[PrincipalRow] = []
        with self.db.reading(SYSTEM) as tx:
            while len(found) <= limit:
                rows = store.principal_page(
                    tx.conn, kind, after_id=after, limit=limit + 1, roles=roles
                )
                found += [r for r in rows if rules.within(r.prefixes, by.prefixes)]
                if len(rows) <= limit:
                    break
                after = rows[-1].id
        items = [store.to_account(r) for r in found[:limit]]
        more = len(found) > limit
        return Page(items, prompt_rules.encode_cursor(items[-1].id) if more and items else None)

    def revoke(self, name: str, kind: str, *, by: rules.Reach = OPERATOR) -> Account:
        """A key stops working, or a person can no longer sign in (their sessions end), on
        every server process at its next request, and open streams of it end (server/
        changes.py). The row stays: history names it."""
        with self.db.writing(SYSTEM) as tx:
            row = store.principal_by_name(tx.conn, name)
            if row is None or row.kind != kind:
                raise AccountNotFound(f"no {'key' if kind == 'key' else 'user'} {name!r}")
            rules.check_within_reach(by, Role[row.role], row.prefixes)
            if row.revoked_at is None:
                now = self.clock()
                store.revoke_principal(tx.conn, row.id, now)
                row = replace(row, revoked_at=now)
                store.delete_sessions_of(tx.conn, row.id)
                store.bump_generation(tx.conn)
        return store.to_account(row)

    # --- people ----------------------------------------------------------------------------

    def create_user(
        self,
        name: str,
        role: str,
        password: str,
        *,
        prefixes: list[str] | tuple[str, ...] = (),
        actor: str = "cli",
        by: rules.Reach = OPERATOR,
    ) -> Account:
        rules.check_name(name)
        wanted, limited = Role.parse(role), rules.check_prefixes(prefixes)
        rules.check_first_is_admin(by, wanted, "user")
        rules.check_within_reach(by, wanted, limited)
        return self._insert(
            {
                "name": name,
                "kind": "user",
                "role": wanted.name,
                "prefixes": list(limited),
                "key_id": None,
                "secret_hash": _hasher.hash(rules.check_password(password)),
                "created_at": self.clock(),
                "created_by": actor,
            }
        )

    def sign_in(self, name: str, password: str, *, address: str | None = None) -> SignedIn:
        """A new session for the right password. The attempt is counted as a failure, for
        the name and the client's address, before the password is checked (core/
        throttle.py), and taken back when it is right; a name or address that must wait is
        refused unchecked. Known and unknown names cost and answer the same."""
        now = self.clock()
        name = name[:64]
        attempts = [(SIGN_IN_NAME, name)]
        if address is not None:
            attempts.append((SIGN_IN_ADDRESS, address))
        with self.db.writing(SYSTEM) as tx:
            throttle.charge(tx.conn, attempts, now)
            row = store.principal_by_name(tx.conn, name)
        if row is None or row.kind != "user" or row.revoked_at is not None:
            _verify(_DUMMY_HASH, password)
            raise Unauthorized("wrong name or password")
        if not _verify(row.secret_hash, password):
            raise Unauthorized("wrong name or password")
        token = secrets.token_urlsafe(32)
        with self.db.writing(SYSTEM) as tx:
            throttle.forget(tx.conn, SIGN_IN_NAME, name)
            if address is not None:
                throttle.refund(tx.conn, SIGN_IN_ADDRESS, address)
            store.delete_expired_sessions(tx.conn, now)
            session_id = store.insert_session(
                tx.conn,
                {
                    "token_hash": sha256_hex(token),
                    "principal_id": row.id,
                    "created_at": now,
                    "expires_at": now + SESSION_LIFETIME,
                },
            )
        person = _principal(row, session_id=session_id)
        return SignedIn(replace(person, expires_at=now + SESSION_LIFETIME), token)

    def sign_out(self, token: str) -> None:
        with self.db.writing(SYSTEM) as tx:
            store.delete_session(tx.conn, sha256_hex(token))
            store.bump_generation(tx.conn)

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
        prompt_rules.check_limit(limit)
        prompt_rules.check_filters(prompt=prompt, actor=actor, kind=kind)
        before = prompt_rules.decode_cursor(cursor) if cursor else None
        with self.db.reading(SYSTEM) as tx:
            rows = store.all_events_page(
                tx.conn,
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
        items = [AuditEvent(event, prompt_name) for event, prompt_name in rows[:limit]]
        last = items[-1].event.id if more and items else None
        return Page(items, prompt_rules.encode_cursor(last) if last is not None else None)

    def prompt_name(self, ref: str) -> str | None:
        with self.db.reading(SYSTEM) as tx:
            return store.prompt_name(tx.conn, ref)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
