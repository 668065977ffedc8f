"""Failed sign-ins and wrong API keys, counted in the database in the transaction that
checks them (so parallel attempts, on any number of processes, are all counted), with the
waits of ``domain/access.py``'s ``Throttle`` policies.

A sign-in is charged as a failure *before* its password is checked, in one write
transaction that refuses it if its name or address must wait; the charge is taken back
when the password is right. So of any number of parallel wrong passwords, exactly the
policy's free ones are checked, whatever the timing. A name is counted whether or not it
exists: known and unknown names wait alike and get the same answers.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime

from sqlalchemy import Connection

from promptdeck.domain.access import Throttle
from promptdeck.errors import TooManyAttempts
from promptdeck.store import access as store

MEMO_MAX = 10_000


def subject_of(policy: Throttle, value: str) -> str:
    """What a row keeps of a name or address: its SHA-256 (a name field sometimes holds a
    password by mistake; no value is ever stored as typed)."""
    return hashlib.sha256(f"{policy.scope}\0{value}".encode("utf-8", "replace")).hexdigest()


def too_many(until: datetime, now: datetime, title: str | None = None) -> TooManyAttempts:
    wait = max(1, math.ceil((until - now).total_seconds()))
    return TooManyAttempts(
        f"too many failed attempts: try again in {wait} s",
        title=title,
        retry_after=wait,
        until=until,
    )


WRONG_KEYS = "Too many wrong API keys"  # the title of a key's 429 (sign-in keeps its own)


def charge(conn: Connection, attempts: list[tuple[Throttle, str]], now: datetime) -> None:
    """Count one failure for each (policy, value), or raise TooManyAttempts when any of
    them must still wait (raised inside the transaction, which then writes nothing)."""
    store.prune_failures(conn, now)
    counted = []
    waits = []
    for policy, value in attempts:
        subject = subject_of(policy, value)
        found = store.count_failure(conn, policy.scope, subject, now, now + policy.window)
        if found.locked_until is not None and found.locked_until > now:
            waits.append(found.locked_until)
        counted.append((policy, subject, found.failures))
    if waits:
        raise too_many(max(waits), now)
    for policy, subject, failures in counted:
        wait = policy.wait_after(failures)
        if wait:
            store.lock_failures(conn, policy.scope, subject, now + wait)


def waiting(conn: Connection, policy: Throttle, value: str, now: datetime) -> None:
    """Raise TooManyAttempts if a key from ``value`` must wait (a read: nothing counted)."""
    until = store.locked_until(conn, policy.scope, subject_of(policy, value))
    if until is not None and until > now:
        raise too_many(until, now, WRONG_KEYS)


def forget(conn: Connection, policy: Throttle, value: str) -> None:
    store.forget_failures(conn, policy.scope, subject_of(policy, value))


def refund(conn: Connection, policy: Throttle, value: str) -> None:
    store.refund_failure(conn, policy.scope, subject_of(policy, value))


class Memo:
    """What this process learnt of wrong keys' waits (address -> until), so an address that
    must wait is refused without a database read; bounded (addresses are the clients')."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}

    def check(self, value: str, now: datetime) -> None:
        until = self._until.get(value)
        if until is not None:
            if until > now:
                raise too_many(until, now, WRONG_KEYS)
            self._until.pop(value, None)  # threads may clear it meanwhile

    def remember(self, value: str, until: datetime) -> None:
        if len(self._until) >= MEMO_MAX:
            self._until.clear()
        self._until[value] = until
