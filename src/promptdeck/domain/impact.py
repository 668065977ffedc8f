"""Impact: what outcomes say about a version. Pure arithmetic over aggregates, no SQL.

Outcomes are folded at ingest into per-version, per-minute sums (``Sums``) and a latency
sketch: DDSketch's logarithmic buckets (``ddsketch.LogarithmicMapping``, 1% relative
accuracy), stored as (bucket, count) rows that merge by addition, so any number of
processes can add to them in SQL and any range of minutes merges by summing. Intervals and
tests are scipy.stats': Wilson for rates, Student's t for mean scores, chi-squared (Fisher
when a cell is small) for two rates, Welch's t for two means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ddsketch.mapping import LogarithmicMapping
from scipy import special, stats

from promptdeck.domain.commands import Outcome

# 1% relative accuracy: p95 of 420 ms is reported within 4.2 ms. Keys of 0.01 ms to a day
# span -232..920, so a minute of a version holds at most a few hundred bucket rows.
RELATIVE_ACCURACY = 0.01
MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)
MIN_LATENCY_MS = 0.01  # below it (0 included) an outcome counts in the zero bucket
ZERO_BUCKET = -32768
CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE

Verdict = Literal["better", "worse", "inconclusive"]


def latency_bucket(latency_ms: float) -> int:
    return ZERO_BUCKET if latency_ms < MIN_LATENCY_MS else int(MAPPING.key(latency_ms))


def bucket_value(bucket: int) -> float:
    return 0.0 if bucket == ZERO_BUCKET else float(MAPPING.value(bucket))


def quantile_bucket(buckets: Iterable[tuple[int, int]], q: float) -> int | None:
    """The bucket holding the q-quantile of a merged sketch (bucket, count), as DDSketch
    ranks it: the first whose running count exceeds ``q * (n - 1)``."""
    ordered = sorted((b, c) for b, c in buckets if c > 0)
    total = sum(c for _, c in ordered)
    if total == 0:
        return None
    rank = q * (total - 1)
    seen = 0
    for bucket, count in ordered:
        seen += count
        if seen > rank:
            return bucket
    return ordered[-1][0]  # pragma: no cover (rank < total always)


def quantile(buckets: Iterable[tuple[int, int]], q: float) -> float | None:
    """The q-quantile of a merged sketch, within the mapping's relative accuracy."""
    bucket = quantile_bucket(buckets, q)
    return None if bucket is None else bucket_value(bucket)


@dataclass(slots=True)
class Sums:
    """What a set of outcomes adds up to; sums of sums are the sums of the union."""

    count: int = 0
    success_n: int = 0  # outcomes that said whether they succeeded
    success_true: int = 0
    score_n: int = 0
    score_sum: float = 0.0
    score_sq: float = 0.0
    latency_n: int = 0
    latency_sum: float = 0.0
    latency_sq: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    feedback_up: int = 0
    feedback_down: int = 0

    def add(self, other: Sums) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def fold(self, o: Outcome) -> None:
        """Add one outcome (ingest's inner loop: plain attribute updates, 20x ``add``)."""
        self.count += 1
        if o.success is not None:
            self.success_n += 1
            self.success_true += o.success
        if o.score is not None:
            self.score_n += 1
            self.score_sum += o.score
            self.score_sq += o.score * o.score
        if o.latency_ms is not None:
            self.latency_n += 1
            self.latency_sum += o.latency_ms
            self.latency_sq += o.latency_ms * o.latency_ms
        if o.input_tokens:
            self.input_tokens += o.input_tokens
        if o.output_tokens:
            self.output_tokens += o.output_tokens
        if o.cost:
            self.cost += o.cost
        if o.feedback == 1:
            self.feedback_up += 1
        elif o.feedback == -1:
            self.feedback_down += 1


FIELDS = tuple(Sums.__slots__)


@dataclass(slots=True)
class Interval:
    value: float | None
    low: float | None
    high: float | None


@dataclass(slots=True)
class Summary:
    """One version's (or one period's) numbers."""

    count: int
    success_n: int
    success_rate: Interval
    score_n: int
    mean_score: Interval
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    mean_latency_ms: float | None
    input_tokens: int
    output_tokens: int
    cost: float
    feedback_up: int
    feedback_down: int


Z = float(special.ndtri(1 - ALPHA / 2))  # 1.959963984540054


def rate_interval(successes: int, n: int) -> Interval:
    """The success rate with its 95% Wilson score interval: the closed form that scipy's
    ``binomtest(k, n).proportion_ci(method="wilson")`` computes (tests hold them equal),
    without the binomial test it runs first (0.3-0.7 ms a call; an impact answer has dozens)."""
    if n == 0:
        return Interval(None, None, None)
    p = successes / n
    z2 = Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def _sd(n: int, total: float, squares: float) -> float:
    """Sample standard deviation from a count, a sum and a sum of squares."""
    if n < 2:
        return 0.0
    variance = (squares - total * total / n) / (n - 1)
    return math.sqrt(max(variance, 0.0))  # rounding can make a constant's variance -1e-17


def mean_interval(n: int, total: float, squares: float) -> Interval:
    """The mean with its 95% Student t interval (none below two values)."""
    if n == 0:
        return Interval(None, None, None)
    mean = total / n
    if n < 2:
        return Interval(mean, None, None)
    # stdtrit is the function behind stats.t.ppf, without its per-call overhead (0.2 ms).
    t = float(special.stdtrit(n - 1, 1 - ALPHA / 2))
    half = t * _sd(n, total, squares) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half)


def summarize(sums: Sums, p50_bucket: int | None, p95_bucket: int | None) -> Summary:
    """A summary from sums and the sketch buckets of the median and the 95th percentile
    (``quantile`` ranks a merged sketch; the store ranks it in SQL the same way)."""
    return Summary(
        count=sums.count,
        success_n=sums.success_n,
        success_rate=rate_interval(sums.success_true, sums.success_n),
        score_n=sums.score_n,
        mean_score=mean_interval(sums.score_n, sums.score_sum, sums.score_sq),
        latency_p50_ms=None if p50_bucket is None else bucket_value(p50_bucket),
        latency_p95_ms=None if p95_bucket is None else bucket_value(p95_bucket),
        mean_latency_ms=sums.latency_sum / sums.latency_n if sums.latency_n else None,
        input_tokens=sums.input_tokens,
        output_tokens=sums.output_tokens,
        cost=sums.cost,
        feedback_up=sums.feedback_up,
        feedback_down=sums.feedback_down,
    )


# --- comparing two versions ----------------------------------------------------------------


@dataclass(slots=True)
class Comparison:
    measure: str
    a: float | None
    b: float | None
    verdict: Verdict
    test: str
    p_value: float | None
    higher_is_better: bool = True
    note: str = field(default="")


def _verdict(p: float | None, diff: float, higher_is_better: bool) -> Verdict:
    if p is None or not p < ALPHA or diff == 0:
        return "inconclusive"
    return "better" if (diff > 0) == higher_is_better else "worse"


def compare_rates(
    measure: str, k_a: int, n_a: int, k_b: int, n_b: int, *, higher_is_better: bool = True
) -> Comparison:
    """Two proportions: Pearson's chi-squared on the 2x2 table (no continuity correction),
    or Fisher's exact test when an expected cell is under 5."""
    a = k_a / n_a if n_a else None
    b = k_b / n_b if n_b else None
    if a is None or b is None:
        return Comparison(measure, a, b, "inconclusive", "none", None, higher_is_better, "no data")
    table = [[k_a, n_a - k_a], [k_b, n_b - k_b]]
    column = (k_a + k_b, n_a + n_b - k_a - k_b)
    if 0 in column:  # every outcome alike on both sides: nothing to tell apart
        return Comparison(measure, a, b, "inconclusive", "none", 1.0, higher_is_better)
    expected = [r * c / (n_a + n_b) for r in (n_a, n_b) for c in column]
    if min(expected) < 5:
        p = float(stats.fisher_exact(table).pvalue)
        test = "fisher_exact"
    else:
        p = float(stats.chi2_contingency(table, correction=False).pvalue)
        test = "chi2_contingency"
    return Comparison(
        measure, a, b, _verdict(p, b - a, higher_is_better), test, p, higher_is_better
    )


def compare_means(
    measure: str,
    a: tuple[int, float, float],
    b: tuple[int, float, float],
    *,
    higher_is_better: bool = True,
) -> Comparison:
    """Two means from (n, sum, sum of squares): Welch's t-test (scipy's ttest_ind_from_stats,
    equal_var=False)."""
    (n_a, s_a, q_a), (n_b, s_b, q_b) = a, b
    mean_a = s_a / n_a if n_a else None
    mean_b = s_b / n_b if n_b else None
    if mean_a is None or mean_b is None or n_a < 2 or n_b < 2:
        return Comparison(
            measure, mean_a, mean_b, "inconclusive", "none", None, higher_is_better, "too few"
        )
    sd_a, sd_b = _sd(n_a, s_a, q_a), _sd(n_b, s_b, q_b)
    if sd_a == 0 and sd_b == 0:
        p = 1.0 if mean_a == mean_b else 0.0  # constants: equal or plainly apart
    else:
        p = float(
            stats.ttest_ind_from_stats(mean_a, sd_a, n_a, mean_b, sd_b, n_b, equal_var=False).pvalue
        )
    return Comparison(
        measure,
        mean_a,
        mean_b,
        _verdict(p, mean_b - mean_a, higher_is_better),
        "welch_t",
        p,
        higher_is_better,
    )


def compare(a: Sums, b: Sums) -> list[Comparison]:
    """B against A on every measure both have."""
    return [
        compare_rates("success_rate", a.success_true, a.success_n, b.success_true, b.success_n),
        compare_means(
            "mean_score", (a.score_n, a.score_sum, a.score_sq), (b.score_n, b.score_sum, b.score_sq)
        ),
        compare_means(
            "mean_latency_ms",
            (a.latency_n, a.latency_sum, a.latency_sq),
            (b.latency_n, b.latency_sum, b.latency_sq),
            higher_is_better=False,
        ),
        compare_rates(
            "positive_feedback",
            a.feedback_up,
            a.feedback_up + a.feedback_down,
            b.feedback_up,
            b.feedback_up + b.feedback_down,
        ),
    ]


# --- alerts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRule:
    """ "success below ``min_success`` over ``window_minutes`` after a move of ``label``",
    judged once ``min_count`` outcomes that report success have arrived."""

    label: str
    min_success: float
    window_minutes: int
    min_count: int
    # Who set it and when (as stored; None on a rule not yet stored). Not part of the rule.
    created_at: datetime | None = field(default=None, compare=False)
    created_by: str | None = field(default=None, compare=False)


def breached(rule: AlertRule, success_true: int, success_n: int) -> bool:
    return success_n >= rule.min_count and success_true / success_n < rule.min_success


SPANS = (1440, 60, 1)  # the aggregates' blocks: a day, an hour, a minute
MINUTE_MAX = (2**31 // 1440) * 1440 - 1  # the last minute an Integer column holds, day-aligned


def blocks(minute: int) -> list[tuple[int, int]]:
    """The (span, first minute) of each block an outcome of ``minute`` adds to."""
    return [(span, minute - minute % span) for span in SPANS]


def into_blocks(
    by_minute: dict[tuple[int, int], tuple[int, Sums]],
    by_bucket: dict[tuple[int, int, int], int],
) -> tuple[dict[tuple[int, int, int], tuple[int, Sums]], dict[tuple[int, int, int, int], int]]:
    """Per-minute folds {(version, minute): (prompt, sums)} and {(version, minute, bucket):
    count} as the rows to add: keyed by (version, span, block start[, bucket])."""
    rows: dict[tuple[int, int, int], tuple[int, Sums]] = {}
    for (version_id, minute), (prompt_id, sums) in by_minute.items():
        for span, start in blocks(minute):
            entry = rows.setdefault((version_id, span, start), (prompt_id, Sums()))
            entry[1].add(sums)
    buckets: dict[tuple[int, int, int, int], int] = {}
    for (version_id, minute, bucket), count in by_bucket.items():
        for span, start in blocks(minute):
            key = (version_id, span, start, bucket)
            buckets[key] = buckets.get(key, 0) + count
    return rows, buckets


def segments(low: int | None, high: int | None) -> list[tuple[int, int, int]]:
    """Minutes ``low..high`` (inclusive; None: open) as the fewest whole blocks:
    (span, first block start, last block start), days in the middle, hours and minutes at
    the edges. Whatever the range, a version reads at most 1 + 2 x 23 + 2 x 59 runs of rows."""
    found: list[tuple[int, int, int]] = []

    def cover(lo: int, hi: int, spans: tuple[int, ...]) -> None:
        if lo > hi:
            return
        span = spans[0]
        if span == 1:
            found.append((1, lo, hi))
            return
        first = -(-lo // span) * span
        end = (hi + 1) // span * span  # exclusive
        if first >= end:
            cover(lo, hi, spans[1:])
            return
        found.append((span, first, end - span))
        cover(lo, first - 1, spans[1:])
        cover(end, hi, spans[1:])

    cover(0 if low is None else low, MINUTE_MAX if high is None else high, SPANS)
    return found


def widened(low: int | None, high: int | None, most: int = 1440) -> tuple[int | None, int | None]:
    """A range for latency quantiles: out to whole hours (ranges of an hour or more) or days
    (a day or more, when ``most`` allows), so it reads a few whole blocks of the sketch, not
    the minute and hour rows at its edges (measured: 40 of 84 ms for 30 one-day periods).
    Counts, rates, scores and their intervals stay exact. Sketch rows are per version, so
    the widened range only takes in the same version's latencies around the range."""
    length = (MINUTE_MAX if high is None else high) - (0 if low is None else low)
    span = 1440 if length >= 1440 and most >= 1440 else 60 if length >= 60 else 1
    return (
        None if low is None else low - low % span,
        None if high is None else high - high % span + span - 1,
    )


def minute_of(at: datetime) -> int:
    """Minutes since the epoch, UTC: the aggregates' time key."""
    return int(at.timestamp() // 60)


def at_minute(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


# --- what an impact question returns --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """A time a label served one version; ``end`` None: it still does."""

    label: str
    version_id: int
    start: datetime
    end: datetime | None


@dataclass(slots=True)
class VersionImpact:
    version_id: int
    number: int | None
    version_name: str | None
    summary: Summary
    periods: list[Span]


@dataclass(slots=True)
class PeriodImpact:
    span: Span
    move_id: int
    actor: str
    reason: str
    summary: Summary


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    start: datetime
    count: int
    success_n: int
    success_rate: float | None
    score_n: int
    mean_score: float | None


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment on the time axis: an activation, a rollback, a label move."""

    at: datetime
    kind: str  # the event kind (version.activated, version.rolled_back, label.moved…)
    label: str
    version_id: int | None
    from_version_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ImpactReport:
    prompt_id: int
    prompt_name: str
    label: str
    since: datetime | None
    until: datetime | None
    versions: list[VersionImpact]
    periods: list[PeriodImpact]
    compare: tuple[int, int] | None = None
    comparisons: list[Comparison] = field(default_factory=list)
    series: list[SeriesPoint] = field(default_factory=list)
    series_minutes: int = 1
    marks: list[Mark] = field(default_factory=list)


def point(start: datetime, sums: Sums) -> SeriesPoint:
    return SeriesPoint(
        start=start,
        count=sums.count,
        success_n=sums.success_n,
        success_rate=sums.success_true / sums.success_n if sums.success_n else None,
        score_n=sums.score_n,
        mean_score=sums.score_sum / sums.score_n if sums.score_n else None,
    )


def series_width(first: int, last: int, points: int) -> int:
    """Minutes a point covers so that ``first..last`` fits in ``points`` points."""
    return max(1, -(-(last - first + 1) // points))


# --- raw outcomes ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawOutcome:
    """One kept outcome, as reported (raw outcomes are kept only when the server is told to)."""

    id: int
    version_id: int
    at: datetime
    success: bool | None
    score: float | None
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None
    feedback: int | None
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class RawOutcomes:
    """A page of a prompt's raw outcomes, newest first, with whether they are being kept
    (``kept``) and for how many days (``days``): an empty page is then no mystery."""

    items: list[RawOutcome]
    next_cursor: str | None
    kept: bool
    days: int
