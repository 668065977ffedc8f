"""Outcomes: ingest (validate the whole batch, fold it into the aggregates, check the alert
thresholds), the alert rules themselves, and kept raw outcomes read back. The questions
asked of the aggregates are in ``core/impact.py``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from promptdeck import limits
from promptdeck.core import load, rollout_guard
from promptdeck.core.tx import Tx
from promptdeck.domain import impact, rules
from promptdeck.domain.commands import Outcome, RemoveAlert, ReportOutcomes, SetAlert
from promptdeck.domain.impact import AlertRule, RawOutcomes, Sums
from promptdeck.domain.labels import ACTIVE, check_label
from promptdeck.domain.refs import EventKind, PromptLike, PromptRef
from promptdeck.errors import InvalidInput, LabelNotFound, RateLimited, VersionNotFound
from promptdeck.store import labels as labels_store
from promptdeck.store import outcomes as store
from promptdeck.store import queries as q


@dataclass(frozen=True, slots=True)
class Ingested:
    accepted: int
    alerts: int  # impact.alert events this batch raised
    rejected: int = 0  # a partial ingest's refused outcomes
    reasons: tuple[str, ...] = ()  # the first few refusals' details


REASONS_KEPT = 5


class IngestLimit:
    """How many outcomes each caller may report: ``rate`` a second, in bursts of up to
    ``burst`` (a token bucket per caller name, kept in this process: with N processes a
    caller may report N times as much). ``rate`` 0: no limit. A batch takes as many tokens
    as it has outcomes, all or none; ``burst`` is at least a full batch, so any batch can
    pass once the bucket has refilled."""

    CALLERS_MAX = 10_000  # buckets kept; past it, the full ones (idle callers) are forgotten

    def __init__(
        self, rate: float = 0.0, burst: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(max(burst, limits.OUTCOMES_BATCH_MAX))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # caller: (tokens, when)
        self._lock = threading.Lock()

    def take(self, caller: str, count: int) -> None:
        """Take ``count`` tokens of ``caller``'s bucket, or raise RateLimited saying how long
        until they are there. A batch larger than the burst (an OTLP export of up to
        ``OTLP_SPANS_MAX`` spans) passes on a full bucket and leaves it in debt: the rate
        holds, and the export is not refused for ever."""
        if self.rate <= 0:
            return
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(caller, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            needed = min(count, self.burst)
            if tokens < needed:
                self._buckets[caller] = (tokens, now)
                wait = (needed - tokens) / self.rate
                raise RateLimited(
                    f"{caller[:80]!r} reports outcomes faster than {self.rate:g} a second "
                    f"(bursts of {self.burst:g}); retry in {wait:.1f} s",
                    retry_after=wait,
                )
            self._buckets[caller] = (tokens - count, now)
            if len(self._buckets) > self.CALLERS_MAX:
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        full = [
            who
            for who, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.burst
        ]
        for who in full:
            del self._buckets[who]
        if len(self._buckets) > self.CALLERS_MAX:  # that many busy callers: start afresh
            self._buckets.clear()


PRUNE_EVERY = timedelta(minutes=1)


@dataclass(slots=True)
class RawSettings:
    """Raw outcomes: kept (``keep``) for ``days``; off by default. The ingests prune what is
    older, at most once a minute a process (``prune_due``, on the transaction's clock)."""

    keep: bool = False
    days: int = 7
    pruned_at: datetime | None = field(default=None, compare=False)

    def prune_due(self, now: datetime) -> bool:
        if not self.keep:
            return False
        if self.pruned_at is not None and abs(now - self.pruned_at) < PRUNE_EVERY:
            return False
        self.pruned_at = now
        return True


class _Refusals:
    """A strict ingest raises the first refusal (the batch is refused whole); a partial one
    counts each and keeps the first few details."""

    def __init__(self, partial: bool) -> None:
        self.partial = partial
        self.count = 0
        self.reasons: list[str] = []

    def refuse(self, exc: InvalidInput, outcome: Outcome) -> None:
        if not self.partial:
            raise exc
        self.count += 1
        if len(self.reasons) < REASONS_KEPT:
            self.reasons.append(f"{outcome.prompt}@{outcome.version_id}: {exc.detail}")


def _check_time(i: int, at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if at > now + timedelta(seconds=limits.OUTCOME_FUTURE_S_MAX):
        raise InvalidInput(
            f"outcomes.{i}.at: more than {limits.OUTCOME_FUTURE_S_MAX} s ahead of the server",
            field=f"outcomes.{i}.at",
        )
    if at < now - timedelta(days=limits.OUTCOME_PAST_DAYS_MAX):
        raise InvalidInput(
            f"outcomes.{i}.at: older than {limits.OUTCOME_PAST_DAYS_MAX} days",
            field=f"outcomes.{i}.at",
        )
    return at


def _prompt_id(tx: Tx, i: int, ref: str, found: dict[str, int | None]) -> int:
    """The outcome's prompt id; a prompt that is missing, deleted or outside the caller's
    prefixes is a 422 naming the outcome. At most ``OUTCOME_PROMPTS_MAX`` prompts are looked
    up a batch (``found`` remembers each)."""
    if ref not in found:
        if len(found) >= limits.OUTCOME_PROMPTS_MAX:
            raise InvalidInput(
                f"outcomes: more than {limits.OUTCOME_PROMPTS_MAX} prompts in one batch",
                field="outcomes",
            )
        row = q.find_prompt_row(tx.conn, PromptRef.parse(ref))
        visible = row is not None and tx.caller.may_see(row.name)
        found[ref] = row.id if row is not None and visible else None
    prompt_id = found[ref]
    if prompt_id is None:
        raise InvalidInput(
            f"outcomes.{i}.prompt_id: no prompt {ref!r}", field=f"outcomes.{i}.prompt_id"
        )
    return prompt_id


def _checked(
    tx: Tx, batch: Sequence[Outcome], now: datetime, refusals: _Refusals
) -> list[tuple[Outcome, int, datetime]]:
    """Each outcome that passes, with its prompt id and time; the others go to
    ``refusals`` (which raises the first one unless the ingest is partial)."""
    timed: list[tuple[int, Outcome, datetime]] = []
    for i, outcome in enumerate(batch):
        try:
            timed.append((i, outcome, _check_time(i, outcome.at, now)))
        except InvalidInput as exc:
            refusals.refuse(exc, outcome)
    found: dict[str, int | None] = {}
    named: list[tuple[int, Outcome, datetime, int]] = []
    for i, outcome, at in timed:
        try:
            named.append((i, outcome, at, _prompt_id(tx, i, outcome.prompt, found)))
        except InvalidInput as exc:
            refusals.refuse(exc, outcome)
    # Live versions only: a purged version is as unknown as one that never was.
    owners = store.owners(tx.conn, (o.version_id for _, o, _, _ in named), live=True)
    kept: list[tuple[Outcome, int, datetime]] = []
    for i, outcome, at, prompt_id in named:
        if owners.get(outcome.version_id) != prompt_id:
            refusals.refuse(
                InvalidInput(
                    f"outcomes.{i}.version_id: prompt {outcome.prompt!r} has no version "
                    f"{outcome.version_id} (or it was purged)",
                    field=f"outcomes.{i}.version_id",
                ),
                outcome,
            )
            continue
        kept.append((outcome, prompt_id, at))
    return kept


def ingest(tx: Tx, cmd: ReportOutcomes, raw: RawSettings) -> Ingested:
    """Count every outcome of the batch once, or none of them (the first bad one is a 422
    naming its index); a prompt outside the caller's prefixes is as missing as one that
    never was. ``cmd.partial``: each bad outcome is refused alone (counted, its reason kept)
    and the others counted, in this one transaction. Kept raw outcomes past their days are
    pruned after, when due."""
    now = tx.clock()
    refusals = _Refusals(cmd.partial)
    kept = _checked(tx, cmd.outcomes, now, refusals)
    alerts = _count(tx, kept, raw, now) if kept else 0
    if raw.prune_due(now):
        store.prune_raw(tx.conn, now - timedelta(days=raw.days))
    return Ingested(len(kept), alerts, refusals.count, tuple(refusals.reasons))


def _count(
    tx: Tx, kept: list[tuple[Outcome, int, datetime]], raw: RawSettings, now: datetime
) -> int:
    """Fold the outcomes into the aggregates (and the raw table when kept); the alerts
    raised."""
    # Folded by minute first (a batch spans a minute or two), then into hours and days.
    by_minute: dict[tuple[int, int], tuple[int, Sums]] = {}
    by_bucket: dict[tuple[int, int, int], int] = {}
    for outcome, prompt_id, at in kept:
        minute = impact.minute_of(at)
        key = (outcome.version_id, minute)
        entry = by_minute.get(key)
        if entry is None:
            entry = by_minute[key] = (prompt_id, Sums())
        entry[1].fold(outcome)
        if outcome.latency_ms is not None:
            bucket = (outcome.version_id, minute, impact.latency_bucket(outcome.latency_ms))
            by_bucket[bucket] = by_bucket.get(bucket, 0) + 1
    # Live rollouts: their prompts locked before the first write (rollout_guard.lock_live).
    live = rollout_guard.lock_live(tx, {prompt_id for _, prompt_id, _ in kept})
    minutes, buckets = impact.into_blocks(by_minute, by_bucket)
    store.add_minutes(tx.conn, minutes)
    store.add_latency(tx.conn, buckets)
    if raw.keep:
        store.insert_raw(
            tx.conn,
            [
                {
                    "prompt_id": prompt_id,
                    "version_id": o.version_id,
                    "at": at,
                    "success": o.success,
                    "score": o.score,
                    "latency_ms": o.latency_ms,
                    "input_tokens": o.input_tokens,
                    "output_tokens": o.output_tokens,
                    "cost": o.cost,
                    "feedback": o.feedback,
                    "tags": o.tags,
                }
                for o, prompt_id, at in kept
            ],
        )
    # Rollouts: their arms, then the guard, in this transaction (a rollback commits with
    # the batch that decided it; core/rollout_guard.py).
    outcomes, _, times = zip(*kept, strict=True)
    for rollout_id in rollout_guard.fold(tx, live, outcomes, times):
        rollout_guard.check(tx, rollout_id)
    touched = {(prompt_id, o.version_id) for o, prompt_id, _ in kept}
    return _check_alerts(tx, touched, now)


def _check_alerts(tx: Tx, touched: set[tuple[int, int]], now: datetime) -> int:
    """Raise ``impact.alert`` for each rule whose label moved within its window to a version
    this batch reported on, once the version's success over the window is below the rule."""
    rules = store.alert_rules(tx.conn, {p for p, _ in touched})
    raised = 0
    for prompt_id, prompt_rules in rules.items():
        for rule in prompt_rules:
            moves = store.moves(tx.conn, prompt_id, rule.label, 1, None)
            if not moves or moves[0].to_version_id is None:
                continue
            move = moves[0]
            version_id = move.to_version_id
            assert version_id is not None
            if (prompt_id, version_id) not in touched:
                continue
            if now > move.created_at + timedelta(minutes=rule.window_minutes):
                continue
            start = impact.minute_of(move.created_at)
            sums = store.sums_of_version(tx.conn, version_id, start, start + rule.window_minutes)
            if not impact.breached(rule, sums.success_true, sums.success_n):
                continue
            if not store.claim_alert(tx.conn, prompt_id, rule.label, move.id):
                continue
            tx.record(
                EventKind.IMPACT_ALERT,
                prompt_id,
                version_id=version_id,
                from_version_id=move.from_version_id,
                detail={
                    "label": rule.label,
                    "move_id": move.id,
                    "success_rate": round(sums.success_true / sums.success_n, 6),
                    "count": sums.success_n,
                    "min_success": rule.min_success,
                    "window_minutes": rule.window_minutes,
                },
            )
            raised += 1
    return raised


# --- alert rules -------------------------------------------------------------------------


def check_rule(cmd: SetAlert) -> AlertRule:
    label, min_success = check_label(cmd.label), cmd.min_success
    window_minutes, min_count = cmd.window_minutes, cmd.min_count
    if not 0 <= min_success <= 1:
        raise InvalidInput("min_success must be within 0..1", field="min_success")
    if not 1 <= window_minutes <= limits.ALERT_WINDOW_MINUTES_MAX:
        raise InvalidInput(
            f"window_minutes must be 1 to {limits.ALERT_WINDOW_MINUTES_MAX}", field="window_minutes"
        )
    if not 1 <= min_count <= limits.ALERT_MIN_COUNT_MAX:
        raise InvalidInput("min_count must be 1 to 1000000", field="min_count")
    return AlertRule(label, min_success, window_minutes, min_count)


def set_alert(tx: Tx, cmd: SetAlert) -> AlertRule:
    """Add or replace the label's rule. The label must be one the prompt knows (``active``,
    a set label or a protected one): a rule on a mistyped label would never fire."""
    rule = check_rule(cmd)
    prompt_id = load.prompt_row(tx, cmd.prompt).id
    known = (
        rule.label == ACTIVE
        or rule.label in labels_store.protected(tx.conn, prompt_id)
        or labels_store.label_row(tx.conn, prompt_id, rule.label) is not None
    )
    if not known:
        raise LabelNotFound(f"no label {rule.label!r} to watch: set it first", field="label")
    now = tx.clock()
    store.set_alert(tx.conn, prompt_id, rule, now, tx.actor)
    return replace(rule, created_at=now, created_by=tx.actor)


def alerts(tx: Tx, ref: PromptLike) -> list[AlertRule]:
    prompt_id = load.prompt_row(tx, ref).id
    return store.alert_rules(tx.conn, [prompt_id]).get(prompt_id, [])


def remove_alert(tx: Tx, cmd: RemoveAlert) -> bool:
    """Remove the label's rule (True); a label with none is 404 label-not-found."""
    prompt_id = load.prompt_row(tx, cmd.prompt).id
    if not store.delete_alert(tx.conn, prompt_id, check_label(cmd.label)):
        raise LabelNotFound(f"no alert on label {cmd.label!r}")
    return True


# --- raw outcomes, read back ---------------------------------------------------------------


def raw_page(
    tx: Tx,
    ref: PromptLike,
    raw: RawSettings,
    *,
    version_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = limits.PAGE_LIMIT_DEFAULT,
    cursor: str | None = None,
) -> RawOutcomes:
    """The prompt's kept raw outcomes, newest first. Outcomes past the retention are never
    returned, pruned yet or not, so a page does not depend on when the last prune ran."""
    row = load.prompt_row(tx, ref)
    rules.check_limit(limit)
    before = rules.decode_time_cursor(cursor) if cursor else None
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until < since:
        raise InvalidInput("until is before since", field="until")
    if version_id is not None and store.owners(tx.conn, [version_id]).get(version_id) != row.id:
        raise VersionNotFound(f"prompt {row.name!r} has no version {version_id}")
    floor = tx.clock() - timedelta(days=raw.days)
    rows = store.raw_page(
        tx.conn,
        row.id,
        version_id=version_id,
        since=max(since, floor) if since is not None else floor,
        until=until,
        before=before,
        limit=limit + 1,
    )
    more = len(rows) > limit
    items = rows[:limit]
    last = items[-1] if more and items else None
    next_cursor = rules.encode_time_cursor(last.at, last.id) if last is not None else None
    return RawOutcomes(items, next_cursor, raw.keep, raw.days)


def _utc(at: datetime | None) -> datetime | None:
    """Times are UTC: one written without an offset is taken as UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
