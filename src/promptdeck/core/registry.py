"""The Registry: the table of contents of promptdeck's operations.

Each public method parses its references once (``PromptRef``, ``VersionRef``), opens one
transaction (``core/tx.py``) and calls one operation: ``core/prompts.py``,
``core/versions.py``, ``core/retention.py`` or ``core/transfer.py``, where the rules
(DESIGN.md 1-8) live. Faces (HTTP routes, UI pages, CLI) call these methods and render what
they return.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from promptdeck.core import (
    deploys,
    impact,
    includes,
    labels,
    load,
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
from promptdeck.core.tx import Clock, Database, unavailable_as_error, utcnow
from promptdeck.domain import history, rules
from promptdeck.domain import retention as retention_rules
from promptdeck.domain.impact import AlertRule, ImpactReport, Outcome, RawOutcomes
from promptdeck.domain.labels import ACTIVE, DeployRequest, Label, LabelMove, Moved, check_label
from promptdeck.domain.models import Event, Include, Page, Prompt, Version
from promptdeck.domain.refs import PromptRef, VersionRef
from promptdeck.domain.retention import CompactReport, StorageReport
from promptdeck.errors import InvalidInput
from promptdeck.store.constraints import translate

__all__ = [
    "Changed",
    "Clock",
    "PromptCreated",
    "Registry",
    "RolledBack",
    "VersionCreated",
    "unavailable_as_error",
    "utcnow",
]


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
        self.default_max_versions = default_max_versions
        self.raw_outcomes = raw_outcomes or RawSettings()
        self.ingest_limit = ingest_limit or IngestLimit()  # none unless given
        self._pruned_at = float("-inf")
        self.contents = ContentStore()
        self.db = Database(engine, clock, self.contents, default_max_versions)

    # --- prompts (core/prompts.py) --------------------------------------------------------

    def create_prompt(
        self,
        name: str,
        *,
        description: str = "",
        tags: list[str] | None = None,
        content: str = "",
        model_config: dict[str, Any] | None = None,
        version_name: str | None = None,
        version_description: str = "",
        max_versions: int | None = None,
        actor: str = "anonymous",
        idempotency_key: str | None = None,
        messages: list[dict[str, Any]] | None = None,
        template_format: str = "plain",
    ) -> PromptCreated:
        """``messages``: the first version is a chat one (the working copy stays ``content``)."""
        rules.check_prompt_name(name)
        new = prompts.NewPrompt(
            name,
            description,
            tags or [],
            content,
            model_config or {},
            version_name,
            version_description,
            max_versions,
            messages=messages,
            template_format=template_format,
        )
        for attempt in (1, 2):
            try:
                with self.db.writing(actor) as tx:
                    return prompts.create(tx, new, idempotency_key)
            except IntegrityError as exc:
                # A concurrent request with the same idempotency key won the race: replay it.
                if idempotency_key is not None and attempt == 1:
                    continue
                raise translate(exc, prompt_name=name, version_name=version_name or "") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def list_prompts(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        query: str | None = None,
        tag: str | None = None,
        deleted: bool = False,
    ) -> Page[Prompt]:
        """Live prompts, oldest first; ``deleted=True``: only soft-deleted ones (each with its
        ``deleted_at``), so they can be found and restored. Same cursor, limit and filters."""
        with self.db.reading() as tx:
            return prompts.page(
                tx, limit=limit, cursor=cursor, query=query, tag=tag, deleted=deleted
            )

    def get_prompt(self, ref: str) -> Prompt:
        with self.db.reading() as tx:
            return load.prompt(tx, load.prompt_row(tx, PromptRef.parse(ref)))

    def update_prompt(
        self,
        ref: str,
        changes: dict[str, Any],
        *,
        if_match: str | None = None,
        actor: str = "anonymous",
    ) -> Prompt:
        with self.db.writing(actor) as tx:
            return prompts.update(tx, PromptRef.parse(ref), changes, if_match)

    def delete_prompt(
        self,
        ref: str,
        *,
        if_match: str | None = None,
        actor: str = "anonymous",
        force: bool = False,
    ) -> None:
        with self.db.writing(actor) as tx:
            prompts.delete(tx, PromptRef.parse(ref), if_match, force=force)

    def restore_prompt(self, ref: str, *, actor: str = "anonymous") -> Prompt:
        with self.db.writing(actor) as tx:
            return prompts.restore(tx, PromptRef.parse(ref))

    def purge_prompt(self, ref: str) -> None:
        with self.db.writing() as tx:
            prompts.purge(tx, PromptRef.parse(ref))

    def list_events(self, ref: str, *, limit: int = 50, cursor: str | None = None) -> Page[Event]:
        with self.db.reading() as tx:
            return prompts.events(tx, PromptRef.parse(ref), limit=limit, cursor=cursor)

    # --- versions (core/versions.py) ------------------------------------------------------

    def create_version(
        self,
        ref: str,
        *,
        version_name: str | None = None,
        description: str = "",
        content: str | None = None,
        model_config: dict[str, Any] | None = None,
        activate: bool = False,
        actor: str = "anonymous",
        idempotency_key: str | None = None,
        if_match: str | None = None,
        save_working_copy: bool = False,
        kind: str = "text",
        messages: list[dict[str, Any]] | None = None,
        template_format: str = "plain",
        if_changed: bool = False,
    ) -> VersionCreated:
        """The active version stays unless ``activate``. ``save_working_copy`` also makes the
        content and model config the prompt's working copy, in the same transaction (an
        editor's "save as new version"); ``if_match`` guards it with the prompt's ETag."""
        new = versions.NewVersion(
            version_name,
            description,
            content,
            model_config,
            activate,
            save_working_copy,
            kind=kind,
            messages=messages,
            template_format=template_format,
            if_changed=if_changed,
        )
        try:
            with self.db.writing(actor) as tx:
                return versions.create(
                    tx,
                    PromptRef.parse(ref),
                    new,
                    idempotency_key=idempotency_key,
                    if_match=if_match,
                )
        except IntegrityError as exc:
            raise translate(exc, version_name=version_name or "") from exc

    def list_versions(
        self,
        ref: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        name: str | None = None,
        archived: bool | None = None,
    ) -> Page[Version]:
        """History, newest first, keyset-paginated on the version number; ``archived``
        filters (None: all, each marked)."""
        with self.db.reading() as tx:
            return versions.page(
                tx, PromptRef.parse(ref), limit=limit, cursor=cursor, name=name, archived=archived
            )

    def get_version(self, ref: str, version_id: int) -> Version:
        with self.db.reading() as tx:
            return versions.get(tx, VersionRef(PromptRef.parse(ref), version_id))

    def rollback(
        self,
        ref: str,
        version_id: int,
        *,
        if_match: str | None = None,
        actor: str = "anonymous",
        label: str | None = None,
        may_move_protected: bool = True,
    ) -> RolledBack:
        """With ``label``, point that label at the version instead of `active` (``if_match``
        is then the label's ETag). ``may_move_protected``: the caller's role allows moving
        protected labels (admin; True in open mode)."""
        label = check_label(label or ACTIVE)
        with self.db.writing(actor) as tx:
            return versions.rollback(
                tx,
                VersionRef(PromptRef.parse(ref), version_id),
                if_match,
                label=label,
                may_move_protected=may_move_protected,
            )

    def get_active(self, ref: str, label: str | None = None) -> tuple[Prompt, Version]:
        """The version `active` (or ``label``) serves, in full, with its prompt."""
        with self.db.reading() as tx:
            if label is None or label == ACTIVE:
                return versions.active(tx, PromptRef.parse(ref))
            return labels.fetch(tx, PromptRef.parse(ref), label)

    # --- labels (core/labels.py) and deploy requests (core/deploys.py) --------------------

    # list_labels, get_label: with their rollouts, in core/rollout_ops.py.

    def move_label(
        self,
        ref: str,
        label: str,
        version_id: int,
        *,
        reason: str | None = None,
        if_match: str | None = None,
        actor: str = "anonymous",
        may_move_protected: bool = True,
    ) -> Moved:
        """Point ``label`` at a version; ``if_match`` (the label's ETag) makes it a
        compare-and-swap. A protected label needs ``may_move_protected`` (the admin role)."""
        with self.db.writing(actor) as tx:
            return labels.move(
                tx,
                PromptRef.parse(ref),
                label,
                version_id,
                reason=reason,
                if_match=if_match,
                may_move_protected=may_move_protected,
            )

    def remove_label(
        self,
        ref: str,
        label: str,
        *,
        reason: str | None = None,
        if_match: str | None = None,
        actor: str = "anonymous",
        may_move_protected: bool = True,
    ) -> None:
        with self.db.writing(actor) as tx:
            labels.remove(
                tx,
                PromptRef.parse(ref),
                label,
                reason=reason,
                if_match=if_match,
                may_move_protected=may_move_protected,
            )

    def revert_label(
        self,
        ref: str,
        label: str,
        *,
        if_match: str | None = None,
        actor: str = "anonymous",
        may_move_protected: bool = True,
    ) -> Moved:
        """Undo the label's last move, as one recorded move."""
        with self.db.writing(actor) as tx:
            return labels.revert(
                tx,
                PromptRef.parse(ref),
                label,
                if_match=if_match,
                may_move_protected=may_move_protected,
            )

    def protect_label(
        self,
        ref: str,
        label: str,
        protected: bool,
        *,
        actor: str = "anonymous",
        may_move_protected: bool = True,
    ) -> Label:
        with self.db.writing(actor) as tx:
            return labels.protect(
                tx, PromptRef.parse(ref), label, protected, may_move_protected=may_move_protected
            )

    def label_history(
        self, ref: str, label: str | None, *, limit: int = 50, cursor: str | None = None
    ) -> Page[LabelMove]:
        """One label's moves, newest first; ``label`` None: every label's (the deploys)."""
        with self.db.reading() as tx:
            return labels.history(tx, PromptRef.parse(ref), label, limit=limit, cursor=cursor)

    def propose_deploy(
        self,
        ref: str,
        label: str,
        version_id: int,
        *,
        reason: str | None,
        actor: str = "anonymous",
        plan: object | None = None,
    ) -> DeployRequest:
        """``plan``: a rollout plan; approving then starts that rollout (docs/rollouts.md)."""
        with self.db.writing(actor) as tx:
            return deploys.propose(tx, PromptRef.parse(ref), label, version_id, reason, plan)

    def decide_deploy(
        self,
        ref: str,
        request_id: int,
        *,
        approve: bool,
        reason: str | None = None,
        actor: str = "anonymous",
        may_move_protected: bool = True,
    ) -> DeployRequest:
        """Approve (moves the label at once) or reject; never by the proposer."""
        with self.db.writing(actor) as tx:
            return deploys.decide(
                tx,
                PromptRef.parse(ref),
                request_id,
                approve=approve,
                reason=reason,
                may_move_protected=may_move_protected,
            )

    def get_deploy(self, ref: str, request_id: int) -> DeployRequest:
        with self.db.reading() as tx:
            return deploys.get(tx, PromptRef.parse(ref), request_id)

    def list_deploys(
        self,
        ref: str,
        *,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[DeployRequest]:
        with self.db.reading() as tx:
            return deploys.page(tx, PromptRef.parse(ref), status=status, limit=limit, cursor=cursor)

    # --- outcomes and impact (core/outcomes.py, core/impact.py) ----------------------------

    def report_outcomes(
        self,
        batch: Sequence[Outcome],
        *,
        actor: str = "anonymous",
        may_see: Callable[[str], bool] | None = None,
    ) -> Ingested:
        """Count a batch of outcomes, all or none; ``may_see``: the caller's prompt prefixes
        (a prompt outside them is as missing as one that never was). Past the caller's
        rate (``ingest_limit``) the batch is refused before any transaction."""
        self.ingest_limit.take(actor, len(batch))
        with self.db.writing(actor) as tx:
            done = outcomes.ingest(tx, batch, self.raw_outcomes, may_see)
        if self.raw_outcomes.keep and time.monotonic() - self._pruned_at > 60:
            self._pruned_at = time.monotonic()  # raw retention: at most once a minute a process
            with self.db.writing(actor) as tx:
                outcomes.prune_raw(tx, self.raw_outcomes)
        return done

    def impact(
        self,
        ref: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        label: str | None = None,
        compare: tuple[int, int] | None = None,
    ) -> ImpactReport:
        with self.db.reading() as tx:
            return impact.report(
                tx, PromptRef.parse(ref), since=since, until=until, label=label, compare=compare
            )

    def version_impact(self, ref: str, version_id: int) -> ImpactReport:
        """A version beside the one before it (compare=(previous, it)); alone if first."""
        with self.db.reading() as tx:
            previous, version = impact.version_pair(tx, PromptRef.parse(ref), version_id)
            pair = None if previous is None else (previous, version)
            found = impact.report(tx, PromptRef.parse(ref), compare=pair or (version, version))
            if pair is None:
                found.compare, found.comparisons = None, []
            return found

    def set_alert(
        self,
        ref: str,
        label: str,
        *,
        min_success: float,
        window_minutes: int,
        min_count: int,
        actor: str = "anonymous",
    ) -> AlertRule:
        rule = outcomes.check_rule(label, min_success, window_minutes, min_count)
        with self.db.writing(actor) as tx:
            return outcomes.set_alert(tx, load.prompt_row(tx, PromptRef.parse(ref)).id, rule)

    def list_alerts(self, ref: str) -> list[AlertRule]:
        with self.db.reading() as tx:
            return outcomes.alerts(tx, load.prompt_row(tx, PromptRef.parse(ref)).id)

    def remove_alert(self, ref: str, label: str, *, actor: str = "anonymous") -> bool:
        with self.db.writing(actor) as tx:
            return outcomes.remove_alert(tx, load.prompt_row(tx, PromptRef.parse(ref)).id, label)

    def list_outcomes(
        self,
        ref: str,
        *,
        version_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RawOutcomes:
        """The prompt's kept raw outcomes, newest first (``since`` inclusive, ``until``
        exclusive), with whether they are being kept and for how long."""
        with self.db.reading() as tx:
            return outcomes.raw_page(
                tx,
                load.prompt_row(tx, PromptRef.parse(ref)),
                self.raw_outcomes,
                version_id=version_id,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
            )

    # --- retention, rule 8 (core/retention.py) --------------------------------------------

    def archive_version(self, ref: str, version_id: int, *, actor: str = "anonymous") -> Changed:
        with self.db.writing(actor) as tx:
            return retention.archive_version(tx, VersionRef(PromptRef.parse(ref), version_id))

    def restore_version(self, ref: str, version_id: int, *, actor: str = "anonymous") -> Changed:
        with self.db.writing(actor) as tx:
            return retention.restore_version(tx, VersionRef(PromptRef.parse(ref), version_id))

    def purge_version(
        self, ref: str, version_id: int, *, reason: str | None, actor: str = "anonymous"
    ) -> Changed:
        """Run ``compact`` afterwards to clear the freed pages."""
        reason = retention_rules.check_purge_reason(reason)
        try:
            with self.db.writing(actor) as tx:
                return retention.purge_version(
                    tx, VersionRef(PromptRef.parse(ref), version_id), reason
                )
        except IntegrityError as exc:
            # Another prompt took up the same content while it was being destroyed.
            raise translate(exc) from exc

    # --- templates (core/render.py, core/includes.py) ---------------------------------------

    def render(
        self,
        ref: str,
        values: dict[str, Any],
        *,
        version_id: int | None = None,
        at: str | None = None,
    ) -> RenderResult:
        with self.db.reading() as tx:
            return render.render(tx, PromptRef.parse(ref), values, version_id=version_id, at=at)

    def dependencies(self, ref: str, version_id: int) -> list[Include]:
        """What the version includes."""
        with self.db.reading() as tx:
            load.version(tx, load.prompt_row(tx, PromptRef.parse(ref)).id, version_id)
            return includes.dependencies(tx, version_id)

    def dependents(self, ref: str, version_id: int, *, limit: int = 50) -> list[Include]:
        """Unpurged versions that include this version (pinned, or through a label)."""
        rules.check_limit(limit)
        with self.db.reading() as tx:
            prompt_id = load.prompt_row(tx, PromptRef.parse(ref), include_deleted=True).id
            load.version(tx, prompt_id, version_id)
            return includes.dependents(tx, prompt_id, version_id, limit)

    def storage(self, ref: str) -> StorageReport:
        with self.db.reading() as tx:
            return retention.storage(tx, PromptRef.parse(ref))

    def compact(self) -> CompactReport:
        return retention.compact(self.engine)

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        self.db.ping()

    # --- export and import (core/transfer.py) ---------------------------------------------

    def export_prompt(self, ref: str) -> dict[str, Any]:
        with self.db.reading() as tx:
            return transfer.export_one(tx, PromptRef.parse(ref))

    def export_prompt_stream(
        self, ref: str, encode: Callable[[str, dict[str, Any]], bytes]
    ) -> Iterator[bytes]:
        """``export_prompt`` as JSON pieces, a batch of versions at a time (bounded memory
        whatever the history's size). Raises PromptNotFound before the first piece."""
        return transfer.stream_one(self.db.reading, PromptRef.parse(ref), encode)

    def export_prompts_stream(
        self,
        encode: Callable[[str, dict[str, Any]], bytes],
        *,
        limit: int = 20,
        cursor: str | None = None,
        visible: Callable[[str], bool] | None = None,
    ) -> Iterator[bytes]:
        """``export_prompts`` as JSON pieces (``{"items": […], "next_cursor": …}``), one
        prompt row and one batch of its versions at a time."""
        return transfer.stream_page(
            self.db.reading, encode, limit=limit, cursor=cursor, visible=visible
        )

    def export_prompts(self, *, limit: int = 20, cursor: str | None = None) -> Page[dict[str, Any]]:
        with self.db.reading() as tx:
            return transfer.export_page(tx, limit=limit, cursor=cursor)

    def import_prompt(self, record: dict[str, Any]) -> tuple[Prompt, bool]:
        """Write an exported record as it is (one transaction); (prompt, created). Importing
        an identical prompt again is a no-op; a different one of the same name is a 409.
        ``record`` is a validated ``schemas.PromptImport``; its parts must also agree."""
        found = history.problem(record)  # before the transaction: a refusal writes nothing
        if found is not None:
            raise InvalidInput(f"{found[0]}: {found[1]}", field=found[0])
        try:
            with self.db.writing() as tx:
                return transfer.import_one(tx, record)
        except IntegrityError as exc:
            raise translate(exc, prompt_name=str(record.get("name", ""))) from exc
