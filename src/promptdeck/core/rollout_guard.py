"""The guard acting on its own: outcomes folded into a live rollout's arms at ingest, and
``check``, the one function that decides and applies what a rollout does next. It runs in
exactly one place at a time whatever the number of processes: it locks the prompt's row and
then the rollout's (``FOR UPDATE`` on PostgreSQL; SQLite's write lock), reads the arms,
calls ``decide`` and applies the result with a compare-and-set on (status, step). Two
processes checking together serialize on the row; the second finds the new status and does
nothing (no double rollback), or the new step and judges that (no lost step).

Ingest calls ``check`` for each rollout its batch added to, in the batch's transaction, so a
rollback commits with the outcomes that decided it. ``tick`` (a periodic task in every
server process, server/ticker.py) calls it for steps that wait on time alone, each rollout
claimed with a lease so that one process checks it per period."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from promptdeck.core import rollouts
from promptdeck.core.tx import Database, Tx
from promptdeck.domain import impact
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import Outcome
from promptdeck.domain.refs import PromptRef
from promptdeck.domain.rollouts import guard
from promptdeck.domain.rollouts import state as sm
from promptdeck.domain.rollouts.decide import apply, decide
from promptdeck.domain.rollouts.state import Change
from promptdeck.store import queries as q
from promptdeck.store import rollouts as store
from promptdeck.store.rollouts import RolloutRow

# Who the guard's own changes are recorded as (events, label history).
GUARD_ACTOR = "rollout-guard"
# Who the guard's own changes are by: the system (the admin role), so that a rollout on a
# protected label steps, rolls back and completes whoever's batch of outcomes decided it
# (the right to move the label was checked when the rollout started).
GUARD = Caller.local(GUARD_ACTOR)
# An outcome tagged with another label than the rollout's (a client sets it: the Python
# client does for copies served through a rollout) came through another label: not counted.
LABEL_TAG = "label"


@dataclass(frozen=True, slots=True)
class _Arm:
    rollout: RolloutRow
    arm: str  # baseline, candidate
    cutoff: int | None  # the arm's latency threshold bucket, once frozen
    frozen_at: datetime | None


def _arms_by_version(live: list[RolloutRow]) -> dict[int, list[_Arm]]:
    found: dict[int, list[_Arm]] = {}
    for r in live:
        cut = r.cutoffs or {}
        frozen = datetime.fromisoformat(str(cut["frozen_at"])) if cut else None
        for arm, version_id, key in (
            ("baseline", r.baseline_version_id, "baseline_bucket"),
            ("candidate", r.candidate_version_id, "candidate_bucket"),
        ):
            cutoff = int(cut[key]) if cut else None
            found.setdefault(version_id, []).append(_Arm(r, arm, cutoff, frozen))
    return found


def lock_live(tx: Tx, prompt_ids: Iterable[int]) -> list[RolloutRow]:
    """The live rollouts of these prompts, their prompts' rows locked first (in id order):
    ingest takes them before it writes anything, in the order ``check`` and the ticker do
    (prompt, then rollout). Without it, a batch's aggregate and arm rows (which hold key
    locks on the rollout's row) and the ticker's check (which holds the prompt's row and
    waits for the rollout's) deadlocked on PostgreSQL. A batch of prompts without a live
    rollout locks nothing."""
    live = store.live_of_prompts(tx.conn, prompt_ids)
    if not live:
        return []
    for prompt_id in sorted({r.prompt_id for r in live}):
        q.find_prompt_row(tx.conn, PromptRef(id=prompt_id), for_update=True)
    return store.live_of_prompts(tx.conn, prompt_ids)  # as they are now that they are held


def fold(
    tx: Tx, live: list[RolloutRow], batch: Sequence[Outcome], times: Sequence[datetime]
) -> list[int]:
    """Add the batch's outcomes of live rollouts' versions (since each started, not tagged
    with another label) to the current step's arms; the ids of the rollouts added to.
    ``live``: from ``lock_live``."""
    if not live:
        return []
    by_version = _arms_by_version(live)
    rows: dict[tuple[int, int, str], dict[str, float]] = {}
    for outcome, at in zip(batch, times, strict=True):
        for a in by_version.get(outcome.version_id, ()):
            r = a.rollout
            tag = outcome.tags.get(LABEL_TAG)
            if at < r.started_at or (tag is not None and tag != r.label):
                continue
            acc = rows.setdefault((r.id, r.step, a.arm), {})
            acc["count"] = acc.get("count", 0) + 1
            if outcome.success is not None:
                acc["success_n"] = acc.get("success_n", 0) + 1
                acc["success_true"] = acc.get("success_true", 0) + int(outcome.success)
            if outcome.score is not None:
                acc["score_n"] = acc.get("score_n", 0) + 1
                acc["score_sum"] = acc.get("score_sum", 0.0) + outcome.score
                acc["score_sq"] = acc.get("score_sq", 0.0) + outcome.score * outcome.score
            latency = outcome.latency_ms
            if latency is not None:
                acc["latency_n"] = acc.get("latency_n", 0) + 1
                if a.cutoff is not None and a.frozen_at is not None and at >= a.frozen_at:
                    acc["tail_n"] = acc.get("tail_n", 0) + 1
                    acc["tail_over"] = acc.get("tail_over", 0) + guard.over(latency, a.cutoff)
    store.add_arms(tx.conn, rows)
    return sorted({rollout_id for rollout_id, _, _ in rows})


def check(tx: Tx, rollout_id: int) -> Change | None:
    """Decide what the rollout does next and do it (None: it waits, or is over). Records the
    guard's latest decision on the row either way."""
    found = store.by_id(tx.conn, rollout_id)
    if found is None or found.status not in sm.LIVE:
        return None
    row = q.find_prompt_row(tx.conn, PromptRef(id=found.prompt_id), for_update=True)
    rollout = store.by_id(tx.conn, rollout_id, for_update=True)
    if row is None or rollout is None or rollout.status not in sm.LIVE:
        return None  # a deleted prompt's rollout waits; an ended one decides nothing
    now = tx.clock()
    state = rollouts.state_of(rollout)
    steps, baseline_latencies = rollouts.step_arms(tx, rollout.id, state.step)
    if guard.latency_due(state, baseline_latencies):
        since = impact.minute_of(state.started_at)
        cutoffs = guard.latency_cutoffs(
            store.latency_rows(tx.conn, state.baseline_id, since),
            state.plan.guard.margin("latency_p95"),
            now,
        )
        if cutoffs is not None:
            state = sm.freeze_cutoffs(state, cutoffs)
            store.set_fields(tx.conn, rollout.id, {"cutoffs": rollouts.cutoffs_json(cutoffs)})
    decision = decide(state, steps, now)
    change = apply(state, decision, now)
    if change is None:
        store.set_fields(tx.conn, rollout.id, {"decision": rollouts.decision_json(decision, now)})
        return None
    with rollouts.as_rollout(tx, GUARD):
        rollouts.apply(tx, row, rollout, change, decision)
    return change


def tick(db: Database, *, period: timedelta, limit: int = 100) -> int:
    """Check the live rollouts whose periodic check is due (each claimed for ``period`` so
    that one process checks it per period); the number of changes made."""
    with db.writing(GUARD) as tx:
        now = tx.clock()
        due = store.claim_due(tx.conn, now, now + period, limit)
    changed = 0
    for rollout_id in due:
        with db.writing(GUARD) as tx:
            changed += check(tx, rollout_id) is not None
    return changed
