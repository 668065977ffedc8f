"""The Registry's rollout operations (core/rollouts.py, core/rollout_guard.py): a mixin, so
that ``Registry`` stays a table of contents. Each method opens one transaction for the
caller and calls one operation, as the Registry's own do."""

from __future__ import annotations

from datetime import timedelta

from promptdeck.core import rollout_guard, rollouts
from promptdeck.core.tx import Database
from promptdeck.domain import commands as c
from promptdeck.domain.caller import Caller
from promptdeck.domain.labels import ACTIVE, Label
from promptdeck.domain.models import Page, Prompt, Version
from promptdeck.domain.refs import PromptLike
from promptdeck.domain.rollouts.record import Rollout


class RolloutOps:
    db: Database

    def start_rollout(self, cmd: c.StartRollout, caller: Caller) -> Rollout:
        # uq_rollouts_live (another start won the race): translated by ``write``.
        return self.db.write(caller, rollouts.start, cmd)

    def control_rollout(self, cmd: c.ControlRollout, caller: Caller) -> Rollout:
        return self.db.write(caller, rollouts.control, cmd)

    def get_rollout(self, ref: PromptLike, label: str, caller: Caller) -> Rollout:
        """The label's newest rollout, live or ended."""
        return self.db.read(caller, rollouts.get, ref, label)

    def list_rollouts(
        self, ref: PromptLike, caller: Caller, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Rollout]:
        return self.db.read(caller, rollouts.page, ref, limit=limit, cursor=cursor)

    def get_label(self, ref: PromptLike, label: str, caller: Caller) -> Label:
        """The label, with its newest rollout."""
        return self.db.read(caller, rollouts.label, ref, label)

    def list_labels(self, ref: PromptLike, caller: Caller) -> list[Label]:
        """`active` first, then every set or protected label, each with its newest rollout."""
        return self.db.read(caller, rollouts.labels_of, ref)

    # --- the hot path (core/live.py ActiveCache) -------------------------------------------

    def serving(self, ref: PromptLike, label: str, caller: Caller) -> rollouts.Served:
        """The label's version in full with its prompt, and its live rollout."""
        return self.db.read(caller, rollouts.serving, ref, label)

    def serving_version(
        self, ref: PromptLike, version_id: int, caller: Caller
    ) -> tuple[Prompt, Version]:
        return self.db.read(caller, rollouts.version_of, ref, version_id)

    def get_assigned(
        self, ref: PromptLike, label: str | None, key: str | None, caller: Caller
    ) -> tuple[Prompt, Version]:
        """The version ``label`` (default `active`) gives a caller with ``key``."""
        return self.db.read(caller, rollouts.assigned, ref, label or ACTIVE, key)

    def check_rollouts(self, period: timedelta) -> int:
        """The periodic check (server/ticker.py): the rollouts due, once per period."""
        return rollout_guard.tick(self.db, period=period)
