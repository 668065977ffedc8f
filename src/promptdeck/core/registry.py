"""The Registry: the table of contents of promptdeck's operations.

Each method opens one transaction for the caller (``core/tx.py``) and calls one operation
with the command (``domain/commands.py``) or the reference it was given; the rules live in
the operations, by concept (``core/prompts.py``, ``core/versions.py``...). Faces (HTTP
routes, UI pages, the CLI) call these methods and render what they return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine

from promptdeck.core import (
    compare,
    deploys,
    impact,
    includes,
    labels,
    outcomes,
    prompts,
    render,
    retention,
    transfer,
    versions,
)
from promptdeck.core.content import ContentStore
from promptdeck.core.outcomes import Ingested, IngestLimit, RawSettings
from promptdeck.core.render import RenderResult
from promptdeck.core.results import Changed, PromptCreated, RolledBack, VersionCreated
from promptdeck.core.rollout_ops import RolloutOps
from promptdeck.core.tx import Clock, Database, utcnow
from promptdeck.domain import commands as c
from promptdeck.domain.caller import Caller
from promptdeck.domain.impact import AlertRule, ImpactReport, RawOutcomes
from promptdeck.domain.labels import DeployRequest, Label, LabelMove, Moved
from promptdeck.domain.models import Event, Include, Page, Prompt, Version
from promptdeck.domain.refs import PromptLike
from promptdeck.domain.retention import CompactReport, StorageReport


class Registry(RolloutOps):
    """The service layer over one database: one method per operation, one transaction each
    (the rollouts' in ``RolloutOps``, core/rollout_ops.py)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utcnow,
        default_max_versions: int | None = None,
        raw_outcomes: RawSettings | None = None,
        ingest_limit: IngestLimit | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.raw_outcomes = raw_outcomes or RawSettings()
        self.ingest_limit = ingest_limit or IngestLimit()  # none unless given
        self.contents = ContentStore()
        self.db = Database(engine, clock, self.contents, default_max_versions)

    # --- prompts (core/prompts.py) --------------------------------------------------------

    def create_prompt(self, cmd: c.CreatePrompt, caller: Caller) -> PromptCreated:
        return self.db.write(caller, prompts.create, cmd)

    def list_prompts(
        self,
        caller: Caller,
        *,
        limit: int = 50,
        cursor: str | None = None,
        query: str | None = None,
        tag: str | None = None,
        deleted: bool = False,
    ) -> Page[Prompt]:
        return self.db.read(
            caller, prompts.page, limit=limit, cursor=cursor, query=query, tag=tag, deleted=deleted
        )

    def get_prompt(self, ref: PromptLike, caller: Caller) -> Prompt:
        return self.db.read(caller, prompts.get, ref)

    def update_prompt(self, cmd: c.UpdatePrompt, caller: Caller) -> Prompt:
        return self.db.write(caller, prompts.update, cmd)

    def delete_prompt(self, cmd: c.DeletePrompt, caller: Caller) -> None:
        self.db.write(caller, prompts.delete, cmd)

    def restore_prompt(self, cmd: c.RestorePrompt, caller: Caller) -> Prompt:
        return self.db.write(caller, prompts.restore, cmd)

    def purge_prompt(self, cmd: c.PurgePrompt, caller: Caller) -> None:
        self.db.write(caller, prompts.purge, cmd)

    def list_events(
        self, ref: PromptLike, caller: Caller, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Event]:
        return self.db.read(caller, prompts.events, ref, limit=limit, cursor=cursor)

    # --- versions (core/versions.py) ------------------------------------------------------

    def create_version(self, cmd: c.CreateVersion, caller: Caller) -> VersionCreated:
        return self.db.write(caller, versions.create, cmd)

    def list_versions(
        self,
        ref: PromptLike,
        caller: Caller,
        *,
        limit: int = 50,
        cursor: str | None = None,
        name: str | None = None,
        archived: bool | None = None,
    ) -> Page[Version]:
        return self.db.read(
            caller, versions.page, ref, limit=limit, cursor=cursor, name=name, archived=archived
        )

    def get_version(self, ref: PromptLike, version_id: int, caller: Caller) -> Version:
        return self.db.read(caller, versions.get, ref, version_id)

    def compare(
        self, ref: PromptLike, version_id: int, against: int, caller: Caller
    ) -> compare.Comparison:
        return self.db.read(caller, compare.compare, ref, version_id, against)

    def rollback(self, cmd: c.Rollback, caller: Caller) -> RolledBack:
        return self.db.write(caller, versions.rollback, cmd)

    def get_active(
        self, ref: PromptLike, caller: Caller, label: str | None = None
    ) -> tuple[Prompt, Version]:
        return self.db.read(caller, versions.active, ref, label)

    # --- labels (core/labels.py) and deploy requests (core/deploys.py) --------------------

    # list_labels, get_label: with their rollouts, in core/rollout_ops.py.

    def move_label(self, cmd: c.MoveLabel, caller: Caller) -> Moved:
        return self.db.write(caller, labels.move, cmd)

    def remove_label(self, cmd: c.RemoveLabel, caller: Caller) -> None:
        self.db.write(caller, labels.remove, cmd)

    def revert_label(self, cmd: c.RevertLabel, caller: Caller) -> Moved:
        return self.db.write(caller, labels.revert, cmd)

    def protect_label(self, cmd: c.ProtectLabel, caller: Caller) -> Label:
        return self.db.write(caller, labels.protect, cmd)

    def label_history(
        self,
        ref: PromptLike,
        label: str | None,
        caller: Caller,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[LabelMove]:
        return self.db.read(caller, labels.history, ref, label, limit=limit, cursor=cursor)

    def propose_deploy(self, cmd: c.ProposeDeploy, caller: Caller) -> DeployRequest:
        return self.db.write(caller, deploys.propose, cmd)

    def decide_deploy(self, cmd: c.DecideDeploy, caller: Caller) -> DeployRequest:
        return self.db.write(caller, deploys.decide, cmd)

    def get_deploy(self, ref: PromptLike, request_id: int, caller: Caller) -> DeployRequest:
        return self.db.read(caller, deploys.get, ref, request_id)

    def list_deploys(
        self,
        ref: PromptLike,
        caller: Caller,
        *,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[DeployRequest]:
        return self.db.read(caller, deploys.page, ref, status=status, limit=limit, cursor=cursor)

    # --- outcomes and impact (core/outcomes.py, core/impact.py) ----------------------------

    def report_outcomes(self, cmd: c.ReportOutcomes, caller: Caller) -> Ingested:
        """Past the caller's rate (``ingest_limit``): refused before any transaction."""
        self.ingest_limit.take(caller.actor, len(cmd.outcomes))
        return self.db.write(caller, partial(outcomes.ingest, raw=self.raw_outcomes), cmd)

    def impact(
        self,
        ref: PromptLike,
        caller: Caller,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        label: str | None = None,
        compare: tuple[int, int] | None = None,
    ) -> ImpactReport:
        return self.db.read(
            caller, impact.report, ref, since=since, until=until, label=label, compare=compare
        )

    def version_impact(self, ref: PromptLike, version_id: int, caller: Caller) -> ImpactReport:
        return self.db.read(caller, impact.version_report, ref, version_id)

    def set_alert(self, cmd: c.SetAlert, caller: Caller) -> AlertRule:
        return self.db.write(caller, outcomes.set_alert, cmd)

    def list_alerts(self, ref: PromptLike, caller: Caller) -> list[AlertRule]:
        return self.db.read(caller, outcomes.alerts, ref)

    def remove_alert(self, cmd: c.RemoveAlert, caller: Caller) -> bool:
        return self.db.write(caller, outcomes.remove_alert, cmd)

    def list_outcomes(
        self,
        ref: PromptLike,
        caller: Caller,
        *,
        version_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RawOutcomes:
        """Kept raw outcomes, newest first (``since`` inclusive, ``until`` exclusive)."""
        page = partial(outcomes.raw_page, raw=self.raw_outcomes, version_id=version_id)
        return self.db.read(caller, page, ref, since=since, until=until, limit=limit, cursor=cursor)

    # --- retention, rule 8 (core/retention.py) --------------------------------------------

    def archive_version(self, cmd: c.ArchiveVersion, caller: Caller) -> Changed:
        return self.db.write(caller, retention.archive_version, cmd)

    def restore_version(self, cmd: c.RestoreVersion, caller: Caller) -> Changed:
        return self.db.write(caller, retention.restore_version, cmd)

    def purge_version(self, cmd: c.PurgeVersion, caller: Caller) -> Changed:  # then compact
        return self.db.write(caller, retention.purge_version, cmd)

    def storage(self, ref: PromptLike, caller: Caller) -> StorageReport:
        return self.db.read(caller, retention.storage, ref)

    def compact(self) -> CompactReport:
        return retention.compact(self.engine)

    def ping(self) -> None:  # raises if the database cannot be reached
        self.db.ping()

    # --- templates (core/render.py, core/includes.py) ---------------------------------------

    def render(self, cmd: c.RenderPrompt, caller: Caller) -> RenderResult:
        return self.db.read(caller, render.render, cmd)

    def dependencies(self, ref: PromptLike, version_id: int, caller: Caller) -> list[Include]:
        return self.db.read(caller, includes.dependencies, ref, version_id)

    def dependents(
        self, ref: PromptLike, version_id: int, caller: Caller, *, limit: int = 50
    ) -> list[Include]:
        return self.db.read(caller, includes.dependents, ref, version_id, limit)

    # --- export and import (core/transfer.py) ---------------------------------------------

    def export_prompt(self, ref: PromptLike, caller: Caller) -> dict[str, Any]:
        return self.db.read(caller, transfer.export_one, ref)

    def export_prompt_stream(
        self, ref: PromptLike, caller: Caller, encode: Callable[[str, dict[str, Any]], bytes]
    ) -> Iterator[bytes]:
        """``export_prompt`` as JSON pieces, a batch of versions at a time; 404 first."""
        return transfer.stream_one(partial(self.db.reading, caller), ref, encode)

    def export_prompts_stream(
        self,
        caller: Caller,
        encode: Callable[[str, dict[str, Any]], bytes],
        *,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Iterator[bytes]:
        """``export_prompts`` as JSON pieces, a prompt and a batch of versions at a time."""
        return transfer.stream_page(
            partial(self.db.reading, caller), encode, limit=limit, cursor=cursor
        )

    def export_prompts(
        self, caller: Caller, *, limit: int = 20, cursor: str | None = None
    ) -> Page[dict[str, Any]]:
        return self.db.read(caller, transfer.export_page, limit=limit, cursor=cursor)

    def import_prompt(self, cmd: c.ImportPrompt, caller: Caller) -> tuple[Prompt, bool]:
        return self.db.write(caller, transfer.import_one, cmd)
