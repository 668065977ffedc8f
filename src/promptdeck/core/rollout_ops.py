"""The Registry's rollout operations (core/rollouts.py, core/rollout_guard.py): a mixin, so
that ``Registry`` stays a table of contents. Each method opens one transaction and calls
one operation, as the Registry's own do."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from promptdeck.core import rollout_guard, rollouts
from promptdeck.core.tx import Database
from promptdeck.domain.labels import ACTIVE, Label
from promptdeck.domain.models import Page, Prompt, Version
from promptdeck.domain.refs import PromptRef
from promptdeck.domain.rollouts.record import Rollout
from promptdeck.store.constraints import translate


class RolloutOps:
    db: Database

    def start_rollout(
        self,
        ref: str,
        label: str,
        plan: object,
        *,
        actor: str = "anonymous",
        may_move_protected: bool = True,
    ) -> Rollout:
        """``plan``: the body as decoded JSON (``parse_plan`` checks it whole)."""
        try:
            with self.db.writing(actor) as tx:
                return rollouts.start(
                    tx, PromptRef.parse(ref), label, plan, may_move_protected=may_move_protected
                )
        except IntegrityError as exc:  # uq_rollouts_live: another start won the race
            raise translate(exc) from exc

    def control_rollout(
        self,
        ref: str,
        label: str,
        action: rollouts.Control,
        *,
        reason: str | None = None,
        actor: str = "anonymous",
    ) -> Rollout:
        """Pause, resume, advance now or abort the label's rollout."""
        with self.db.writing(actor) as tx:
            return rollouts.control(tx, PromptRef.parse(ref), label, action, reason=reason)

    def get_rollout(self, ref: str, label: str) -> Rollout:
        """The label's newest rollout, live or ended."""
        with self.db.reading() as tx:
            return rollouts.get(tx, PromptRef.parse(ref), label)

    def list_rollouts(
        self, ref: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Rollout]:
        with self.db.reading() as tx:
            return rollouts.page(tx, PromptRef.parse(ref), limit=limit, cursor=cursor)

    def get_label(self, ref: str, label: str) -> Label:
        """The label, with its newest rollout."""
        with self.db.reading() as tx:
            return rollouts.label(tx, PromptRef.parse(ref), label)

    def list_labels(self, ref: str) -> list[Label]:
        """`active` first, then every set or protected label, each with its newest rollout."""
        with self.db.reading() as tx:
            return rollouts.labels_of(tx, PromptRef.parse(ref))

    # --- the hot path (core/live.py ActiveCache) -------------------------------------------

    def serving(self, ref: str, label: str) -> rollouts.Served:
        """The label's version in full with its prompt, and its live rollout."""
        with self.db.reading() as tx:
            return rollouts.serving(tx, PromptRef.parse(ref), label)

    def serving_version(self, ref: str, version_id: int) -> tuple[Prompt, Version]:
        with self.db.reading() as tx:
            return rollouts.version_of(tx, PromptRef.parse(ref), version_id)

    def get_assigned(self, ref: str, label: str | None, key: str | None) -> tuple[Prompt, Version]:
        """The version ``label`` (default `active`) gives a caller with ``key``."""
        with self.db.reading() as tx:
            return rollouts.assigned(tx, PromptRef.parse(ref), label or ACTIVE, key)

    def check_rollouts(self, period: timedelta) -> int:
        """The periodic check (server/ticker.py): the rollouts due, once per period."""
        return rollout_guard.tick(self.db, period=period)
