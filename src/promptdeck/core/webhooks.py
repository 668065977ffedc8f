"""Webhooks: managing hooks (the admin's), reading their delivery log, and the two steps of
the delivery worker that touch the database (claim, record). The sending is the server's
(server/webhooks.py: HTTP is not the core's); queuing is core/announce.py, in each
event's own transaction.

``Webhooks`` is the table of contents, as ``Registry`` is for prompts: each method checks
its input, opens one ``Tx`` on the registry's ``Database`` and calls one operation below."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from promptdeck import limits
from promptdeck.core.tx import Database, Tx
from promptdeck.domain import outgoing
from promptdeck.domain import rules as prompt_rules
from promptdeck.domain import webhooks as rules
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.models import Page
from promptdeck.domain.outgoing import Address, Allowance
from promptdeck.domain.refs import PromptRef
from promptdeck.domain.webhooks import Attempt, Delivery, Hook, NewHook, Outgoing, Retry
from promptdeck.errors import InvalidInput, PromptNotFound, TooManyWebhooks, WebhookNotFound
from promptdeck.store import queries as q
from promptdeck.store import webhooks as store

STATUSES = (store.PENDING, store.DELIVERED, store.FAILED)
_T = TypeVar("_T", Hook, Delivery)

# What a host name resolves to, now (the server's resolver; raises OSError when it cannot
# say). Injected: the core does no I/O of its own beyond the database.
Resolve = Callable[[str, int], list[Address]]


@dataclass(frozen=True, slots=True)
class Destinations:
    """Where a hook may point: the operator's allowance (``PROMPTDECK_ALLOW_OUTGOING``) and,
    when given, a resolver to check where a name leads at creation. The delivery checks
    again at each connection (resolution can change)."""

    allowance: Allowance = outgoing.NOTHING
    resolve: Resolve | None = None

    def check(self, url: str) -> str:
        """The URL, or InvalidInput naming ``url``: a literal or a name that may not be
        reached, or a name that resolves to one. A name that does not resolve now is taken
        (the receiver may not exist yet); each delivery checks it again."""
        rules.check_url(url, self.allowance)
        target = outgoing.split_url(url)
        if target.address is None and self.resolve is not None:
            try:
                found = self.resolve(target.host, target.port)
            except (OSError, ValueError):  # the resolver cannot say now
                return url
            if found:
                outgoing.check_resolved(target.host, found, self.allowance, field="url")
        return url


class Webhooks:
    """Hooks and deliveries over one database."""

    def __init__(self, db: Database, destinations: Destinations | None = None) -> None:
        self.db = db
        self.destinations = destinations or Destinations()

    # --- hooks -------------------------------------------------------------------------------

    def create(
        self,
        url: str,
        *,
        events: list[str] | tuple[str, ...] = (rules.ALL,),
        prompt: str | None = None,
        secret: str | None = None,
        description: str = "",
        enabled: bool = True,
        actor: str = "anonymous",
    ) -> NewHook:
        """A new hook; its secret (generated unless given) is in the answer only."""
        secret = rules.check_secret(secret) if secret is not None else rules.new_secret()
        values: dict[str, Any] = {
            "events": list(rules.check_events(events)),
            "secret": secret,
            "description": rules.check_description(description),
            "enabled": enabled,
        }
        ref = PromptRef.parse(prompt) if prompt is not None else None
        values["url"] = self.destinations.check(url)  # last, and outside the transaction
        with self.db.writing(Caller.local(actor)) as tx:
            return NewHook(add(tx, values, ref), secret)

    def get(self, hook_id: int) -> Hook:
        with self.db.reading(SYSTEM) as tx:
            return _hook(tx, hook_id)

    def page(self, *, limit: int = 50, cursor: str | None = None) -> Page[Hook]:
        """Every hook, oldest first."""
        prompt_rules.check_limit(limit)
        after = prompt_rules.decode_cursor(cursor) if cursor else None
        with self.db.reading(SYSTEM) as tx:
            rows = store.hook_page(tx.conn, after_id=after, limit=limit + 1)
        return _page(rows, limit)

    def update(self, hook_id: int, changes: dict[str, Any]) -> Hook:
        """Change the url, events, description, enabled or secret (a new secret is not shown
        again: the caller gave it)."""
        checks: dict[str, Callable[[Any], Any]] = {
            "url": self.destinations.check,
            "events": lambda v: list(rules.check_events(v)),
            "description": rules.check_description,
            "secret": rules.check_secret,
            "enabled": bool,
        }
        unknown = set(changes) - set(checks)
        if unknown:
            raise InvalidInput(f"cannot change {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
        # The url last: it may resolve its host.
        given = sorted(changes, key=lambda k: k == "url")
        values = {k: checks[k](changes[k]) for k in given if changes[k] is not None}
        with self.db.writing(SYSTEM) as tx:
            return change(tx, hook_id, values)

    def delete(self, hook_id: int) -> None:
        """The hook and its deliveries, pending ones included."""
        with self.db.writing(SYSTEM) as tx:
            _hook(tx, hook_id)
            store.delete_hook(tx.conn, hook_id)

    def deliveries(
        self,
        hook_id: int,
        *,
        limit: int = 50,
        cursor: str | None = None,
        status: str | None = None,
    ) -> Page[Delivery]:
        """The hook's delivery log, newest first, each with its last attempt."""
        prompt_rules.check_limit(limit)
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
        before = prompt_rules.decode_cursor(cursor) if cursor else None
        with self.db.reading(SYSTEM) as tx:
            _hook(tx, hook_id)
            rows = store.delivery_page(
                tx.conn, hook_id, before_id=before, limit=limit + 1, status=status
            )
        return _page(rows, limit)

    def send_test(self, hook_id: int, *, actor: str = "anonymous") -> Delivery:
        """Queue a ``webhook.test`` delivery to the hook (the "send a test" button)."""
        with self.db.writing(Caller.local(actor)) as tx:
            return queue_test(tx, hook_id)

    # --- the worker's two steps ----------------------------------------------------------------

    def claim(self, token: str, *, lease: timedelta, limit: int = 20) -> list[Outgoing]:
        """Due deliveries, for this worker alone until the lease ends (at most one a hook)."""
        with self.db.writing(SYSTEM) as tx:
            now = tx.clock()
            return store.claim(tx.conn, now=now, until=now + lease, token=token, limit=limit)

    def record(self, out: Outgoing, attempt: Attempt, retry: Retry) -> str:
        """The attempt's outcome; the delivery's new status (pending: tried again later)."""
        with self.db.writing(SYSTEM) as tx:
            return record(tx, out, attempt, retry)

    def record_and_next(
        self, out: Outgoing, attempt: Attempt, retry: Retry, *, lease: timedelta
    ) -> tuple[str, Outgoing | None]:
        """Record the attempt and, in the same transaction, claim the hook's next due
        delivery for the same worker: a hook's deliveries follow one another with one
        transaction each, and the hook stays claimed while it has some due."""
        with self.db.writing(SYSTEM) as tx:
            status = record(tx, out, attempt, retry)
            now = tx.clock()
            following = store.claim(
                tx.conn, now=now, until=now + lease, token=out.claim, limit=1, hook_id=out.hook_id
            )
        return status, following[0] if following else None

    def prune(self, keep: timedelta) -> int:
        """Forget finished deliveries older than ``keep``."""
        with self.db.writing(SYSTEM) as tx:
            return store.delete_finished_before(tx.conn, tx.clock() - keep)


# --- operations ------------------------------------------------------------------------------


def add(tx: Tx, values: dict[str, Any], prompt: PromptRef | None) -> Hook:
    """Insert a hook, counted in this transaction under a lock that serializes adds, so the
    cap holds however many admins create at once."""
    prompt_id = _prompt_id(tx, prompt) if prompt is not None else None
    store.lock_hooks(tx.conn)
    # Every write reads the hooks and queues a delivery per match: a bounded number.
    if store.hook_count(tx.conn) >= limits.WEBHOOKS_MAX:
        raise TooManyWebhooks(
            f"at most {limits.WEBHOOKS_MAX} webhooks: delete one first (one hook can "
            "take several event kinds, or every prompt's events)"
        )
    now = tx.clock()
    hook_id = store.insert_hook(
        tx.conn,
        {
            **values,
            "prompt_id": prompt_id,
            "created_at": now,
            "created_by": tx.actor,
            "updated_at": now,
        },
    )
    return _hook(tx, hook_id)


def change(tx: Tx, hook_id: int, values: dict[str, Any]) -> Hook:
    _hook(tx, hook_id)
    if values:
        store.update_hook(tx.conn, hook_id, {**values, "updated_at": tx.clock()})
    return _hook(tx, hook_id)


def queue_test(tx: Tx, hook_id: int) -> Delivery:
    hook = _hook(tx, hook_id)
    now = tx.clock()
    uid = str(uuid.uuid4())
    event = {
        "id": None,
        "kind": rules.TEST_KIND,
        "prompt_id": hook.prompt_id,
        "version_id": None,
        "from_version_id": None,
        "actor": tx.actor,
        "created_at": now,
        "detail": {"hook_id": hook.id},
    }
    store.insert_deliveries(
        tx.conn,
        [
            {
                "uid": uid,
                "hook_id": hook.id,
                "event_id": None,
                "kind": rules.TEST_KIND,
                "body": rules.payload(uid, event, hook.prompt_name).decode(),
                "status": store.PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
        ],
    )
    return store.delivery_page(tx.conn, hook.id, before_id=None, limit=1, status=None)[0]


def record(tx: Tx, out: Outgoing, attempt: Attempt, retry: Retry) -> str:
    """Keep the attempt's status code or error and its duration (never the receiver's
    answer), and when to try again; only while the claim is still ``out``'s."""
    now = tx.clock()
    attempts = out.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": attempt.status_code,
        "last_error": rules.clip(attempt.error, rules.ERROR_KEEP),
        "last_duration_ms": attempt.duration_ms,
    }
    if attempt.ok:
        values |= {"status": store.DELIVERED, "finished_at": now, "next_attempt_at": None}
    else:
        after = now + retry.delay(attempts)
        if after - out.created_at > retry.give_up_after:
            values |= {"status": store.FAILED, "finished_at": now, "next_attempt_at": None}
        else:
            values |= {"status": store.PENDING, "next_attempt_at": after}
    store.finish_attempt(tx.conn, out.id, out.claim, values)
    return str(values["status"])


def _page(rows: list[_T], limit: int) -> Page[_T]:
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items, prompt_rules.encode_cursor(items[-1].id) if more and items else None)


def _hook(tx: Tx, hook_id: int) -> Hook:
    found = store.hook(tx.conn, hook_id)
    if found is None:
        raise WebhookNotFound(f"no webhook {hook_id}")
    return found


def _prompt_id(tx: Tx, prompt: PromptRef) -> int:
    row = q.find_prompt_row(tx.conn, prompt, include_deleted=False)
    if row is None:
        raise PromptNotFound(f"no prompt {str(prompt)!r}", field="prompt")
    return row.id
