"""Impact: per version and per label period, from the per-minute aggregates only (so the
cost of a question does not grow with the number of outcomes behind it, only with the
minutes and versions asked about)."""

from __future__ import annotations

from datetime import datetime

from promptdeck import limits
from promptdeck.core import load
from promptdeck.core.tx import Tx
from promptdeck.domain import impact
from promptdeck.domain.impact import (
    ImpactReport,
    Mark,
    PeriodImpact,
    Span,
    Sums,
    VersionImpact,
)
from promptdeck.domain.labels import ACTIVE, check_label
from promptdeck.domain.refs import EventKind, PromptLike
from promptdeck.errors import InvalidInput, VersionNotFound
from promptdeck.store import outcomes as store

MARK_KINDS = (
    EventKind.VERSION_ACTIVATED,
    EventKind.VERSION_ROLLED_BACK,
    EventKind.LABEL_MOVED,
    EventKind.LABEL_REMOVED,
    EventKind.IMPACT_ALERT,
    # A rollout's steps: when a share of callers moved (docs/rollouts.md).
    EventKind.ROLLOUT_STARTED,
    EventKind.ROLLOUT_ADVANCED,
    EventKind.ROLLOUT_PAUSED,
    EventKind.ROLLOUT_RESUMED,
    EventKind.ROLLOUT_COMPLETED,
    EventKind.ROLLOUT_ROLLED_BACK,
    EventKind.ROLLOUT_ABORTED,
)
MARKS_MAX = 500


def _minute(at: datetime | None) -> int | None:
    return None if at is None else impact.minute_of(at)


def report(
    tx: Tx,
    ref: PromptLike,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    label: str | None = None,
    compare: tuple[int, int] | None = None,
) -> ImpactReport:
    label = check_label(label) if label is not None else ACTIVE
    if since is not None and until is not None and until < since:
        raise InvalidInput("until is before since", field="until")
    row = load.prompt_row(tx, ref)
    store.no_jit(tx.conn)
    low, high = _minute(since), _minute(until)
    by_version = store.sums_by_version(tx.conn, row.id, low, high)
    if compare is not None:
        known = store.owners(tx.conn, compare)
        for version_id in compare:
            if known.get(version_id) != row.id:
                raise VersionNotFound(f"prompt {str(ref)!r} has no version {version_id}")
            by_version.setdefault(version_id, Sums())
    moves = _moves(tx, row.id, label, since, until)
    spans = [span for span, *_ in moves]
    ids = sorted(by_version)
    names = store.version_names(tx.conn, ids)
    wide = impact.widened(low, high, most=60)
    latency = store.quantile_buckets(tx.conn, [(v, v, *wide) for v in ids])
    versions = [
        VersionImpact(
            version_id=v,
            number=names.get(v, (None, None))[0],
            version_name=names.get(v, (None, None))[1],
            summary=impact.summarize(by_version[v], *latency[v]),
            periods=[s for s in spans if s.version_id == v],
        )
        for v in ids
    ]
    periods = _periods(tx, moves, low, high)
    found = ImpactReport(
        prompt_id=row.id,
        prompt_name=row.name,
        label=label,
        since=since,
        until=until,
        versions=versions,
        periods=periods,
    )
    if compare is not None:
        found.compare = compare
        found.comparisons = impact.compare(by_version[compare[0]], by_version[compare[1]])
    _series(tx, found, row.id, low, high)
    found.marks = [
        Mark(at, kind, str(detail.get("label", ACTIVE)), version_id, from_id, detail)
        for at, kind, version_id, from_id, detail in store.move_events(
            tx.conn, row.id, [str(k) for k in MARK_KINDS], MARKS_MAX
        )
        if (since is None or at >= since) and (until is None or at <= until)
    ]
    return found


def _moves(
    tx: Tx, prompt_id: int, label: str, since: datetime | None, until: datetime | None
) -> list[tuple[Span, int, str, str]]:
    """The label's periods that overlap since..until (the newest IMPACT_PERIODS_MAX), each
    with the move that began it."""
    moves = store.moves(tx.conn, prompt_id, label, limits.IMPACT_PERIODS_MAX, until)
    found = []
    for i, move in enumerate(moves):
        end = moves[i + 1].created_at if i + 1 < len(moves) else None
        if move.to_version_id is None:
            continue
        if since is not None and end is not None and end < since:
            continue
        span = Span(label, move.to_version_id, move.created_at, end)
        found.append((span, move.id, move.actor, move.reason))
    return found


def _periods(
    tx: Tx, moves: list[tuple[Span, int, str, str]], low: int | None, high: int | None
) -> list[PeriodImpact]:
    """Each period's numbers: its version's outcomes in the minutes it served (clipped to
    low..high), all periods read together."""
    asks = []
    for i, (span, *_rest) in enumerate(moves):
        start = impact.minute_of(span.start)
        end = None if span.end is None else impact.minute_of(span.end)
        start = start if low is None else max(start, low)
        if high is not None:
            end = high if end is None else min(end, high)
        asks.append((i, span.version_id, start, end))
    sums = store.sums_many(tx.conn, asks)
    latency = store.quantile_buckets(
        tx.conn, [(i, v, *impact.widened(a, b)) for i, v, a, b in asks]
    )
    return [
        PeriodImpact(span, move_id, actor, reason, impact.summarize(sums[i], *latency[i]))
        for i, (span, move_id, actor, reason) in enumerate(moves)
    ]


def _series(tx: Tx, found: ImpactReport, prompt_id: int, low: int | None, high: int | None) -> None:
    """Success rate and mean score over time, all versions together, in at most
    IMPACT_POINTS_MAX points."""
    first, last = store.minute_bounds(tx.conn, prompt_id)
    if first is None or last is None:
        return
    first = first if low is None else max(first, low)
    last = last if high is None else min(last, high)
    if last < first:
        return
    width = impact.series_width(first, last, limits.IMPACT_POINTS_MAX)
    # Wide points read hour or day rows, whole (so a point at the edge of since..until may
    # hold outcomes of its hour or day outside it): a few rows a point, whatever the range.
    span = next(s for s in impact.SPANS if s <= width)
    width = -(-width // span) * span
    first -= first % span
    points: dict[int, Sums] = {}
    for start, _version, sums in store.series(tx.conn, prompt_id, first, last, width, span):
        points.setdefault(start, Sums()).add(sums)
    found.series_minutes = width
    found.series = [impact.point(impact.at_minute(m), s) for m, s in sorted(points.items())]


def version_pair(tx: Tx, ref: PromptLike, version_id: int) -> tuple[int | None, int]:
    """(the version before it, the version): what a version page compares."""
    row = load.prompt_row(tx, ref)
    version = load.version(tx, row.id, version_id)
    return store.previous_version_id(tx.conn, row.id, version.number), version_id


def version_report(tx: Tx, ref: PromptLike, version_id: int) -> ImpactReport:
    """A version beside the one before it (compare=(previous, it)); alone if it is first."""
    previous, version = version_pair(tx, ref, version_id)
    if previous is not None:
        return report(tx, ref, compare=(previous, version))
    found = report(tx, ref, compare=(version, version))
    found.compare, found.comparisons = None, []
    return found
