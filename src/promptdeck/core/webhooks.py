"""Webhooks: managing hooks (the admin's), reading their delivery log, and the two steps of
the delivery worker that touch the database (claim, record). The sending is the server's
(server/webhooks.py: HTTP is not the core's); queuing is core/announce.py, in each
event's own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from promptdeck import limits
from promptdeck.core.tx import Connections
from promptdeck.domain import rules as prompt_rules
from promptdeck.domain import webhooks as rules
from promptdeck.domain.models import Page
from promptdeck.domain.refs import PromptRef
from promptdeck.domain.webhooks import Attempt, Delivery, Hook, NewHook, Outgoing, Retry
from promptdeck.errors import InvalidInput, PromptNotFound, TooManyWebhooks, WebhookNotFound
from promptdeck.store import queries as q
from promptdeck.store import webhooks as store

STATUSES = (store.PENDING, store.DELIVERED, store.FAILED)


class Webhooks(Connections):
    """Hooks and deliveries over one database."""

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
            "url": rules.check_url(url),
            "events": list(rules.check_events(events)),
            "secret": secret,
            "description": rules.check_description(description),
            "enabled": enabled,
        }
        now = self.clock()
        with self._write() as conn:
            prompt_id = _prompt_id(conn, prompt) if prompt is not None else None
            # Every write reads the hooks and queues a delivery per match: a bounded number.
            if store.hook_count(conn) >= limits.WEBHOOKS_MAX:
                raise TooManyWebhooks(
                    f"at most {limits.WEBHOOKS_MAX} webhooks: delete one first (one hook can "
                    "take several event kinds, or every prompt's events)"
                )
            hook_id = store.insert_hook(
                conn,
                {
                    **values,
                    "prompt_id": prompt_id,
                    "created_at": now,
                    "created_by": actor,
                    "updated_at": now,
                },
            )
            found = store.hook(conn, hook_id)
        assert found is not None
        return NewHook(found, secret)

    def get(self, hook_id: int) -> Hook:
        with self._read() as conn:
            return _hook(conn, hook_id)

    def page(self, *, limit: int = 50, cursor: str | None = None) -> Page[Hook]:
        """Every hook, oldest first."""
        prompt_rules.check_limit(limit)
        after = prompt_rules.decode_cursor(cursor) if cursor else None
        with self._read() as conn:
            rows = store.hook_page(conn, after_id=after, limit=limit + 1)
        more = len(rows) > limit
        items = rows[:limit]
        return Page(items, prompt_rules.encode_cursor(items[-1].id) if more and items else None)

    def update(self, hook_id: int, changes: dict[str, Any]) -> Hook:
        """Change the url, events, description, enabled or secret (a new secret is not shown
        again: the caller gave it)."""
        checks: dict[str, Callable[[Any], Any]] = {
            "url": rules.check_url,
            "events": lambda v: list(rules.check_events(v)),
            "description": rules.check_description,
            "secret": rules.check_secret,
            "enabled": bool,
        }
        unknown = set(changes) - set(checks)
        if unknown:
            raise InvalidInput(f"cannot change {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
        values = {k: checks[k](v) for k, v in changes.items() if v is not None}
        with self._write() as conn:
            _hook(conn, hook_id)
            if values:
                store.update_hook(conn, hook_id, {**values, "updated_at": self.clock()})
            return _hook(conn, hook_id)

    def delete(self, hook_id: int) -> None:
        """The hook and its deliveries, pending ones included."""
        with self._write() as conn:
            _hook(conn, hook_id)
            store.delete_hook(conn, hook_id)

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
        with self._read() as conn:
            _hook(conn, hook_id)
            rows = store.delivery_page(
                conn, hook_id, before_id=before, limit=limit + 1, status=status
            )
        more = len(rows) > limit
        items = rows[:limit]
        return Page(items, prompt_rules.encode_cursor(items[-1].id) if more and items else None)

    def send_test(self, hook_id: int, *, actor: str = "anonymous") -> Delivery:
        """Queue a ``webhook.test`` delivery to the hook (the "send a test" button)."""
        now = self.clock()
        with self._write() as conn:
            hook = _hook(conn, hook_id)
            uid = str(uuid.uuid4())
            event = {
                "id": None,
                "kind": rules.TEST_KIND,
                "prompt_id": hook.prompt_id,
                "version_id": None,
                "from_version_id": None,
                "actor": actor,
                "created_at": now,
                "detail": {"hook_id": hook.id},
            }
            store.insert_deliveries(
                conn,
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
            page = store.delivery_page(conn, hook.id, before_id=None, limit=1, status=None)
        return page[0]

    # --- the worker's two steps ----------------------------------------------------------------

    def claim(self, token: str, *, lease: timedelta, limit: int = 20) -> list[Outgoing]:
        """Due deliveries, for this worker alone until the lease ends."""
        now = self.clock()
        with self._write() as conn:
            return store.claim(conn, now=now, until=now + lease, token=token, limit=limit)

    def record(self, out: Outgoing, attempt: Attempt, retry: Retry) -> str:
        """The attempt's outcome; the delivery's new status (pending: tried again later)."""
        now = self.clock()
        attempts = out.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status_code": attempt.status_code,
            "last_error": rules.clip(attempt.error, rules.ERROR_KEEP),
            "last_response": rules.clip(attempt.response, rules.RESPONSE_KEEP),
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
        with self._write() as conn:
            store.finish_attempt(conn, out.id, out.claim, values)
        return str(values["status"])

    def next_due(self) -> datetime | None:
        with self._read() as conn:
            return store.next_due(conn)

    def prune(self, keep: timedelta) -> int:
        """Forget finished deliveries older than ``keep``."""
        with self._write() as conn:
            return store.delete_finished_before(conn, self.clock() - keep)


def _hook(conn: Connection, hook_id: int) -> Hook:
    found = store.hook(conn, hook_id)
    if found is None:
        raise WebhookNotFound(f"no webhook {hook_id}")
    return found


def _prompt_id(conn: Connection, prompt: str) -> int:
    row = q.find_prompt_row(conn, PromptRef.parse(prompt), include_deleted=False)
    if row is None:
        raise PromptNotFound(f"no prompt {prompt!r}", field="prompt")
    return row.id
