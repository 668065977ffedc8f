"""What an evaluation says: per-version summaries, and two versions compared on the same
cases with paired tests (pure; scipy.stats, like ``domain/impact.py``).

Two versions run on the same cases are paired data, so they are compared case by case,
not as two independent samples:

- pass/fail per evaluator: McNemar's exact test, a two-sided binomial test (``binomtest``,
  p = 1/2) on the discordant cases (passed on one version only). Cases that agree say
  nothing about which is better, and the exact test holds for few discordant cases, where
  the chi-squared form does not.
- scores per evaluator: the Wilcoxon signed-rank test on the per-case differences. Scores
  lie in [0, 1] and are often coarse (0, 0.5, 1; a judge's tenths) and skewed, so a paired
  t-test's normal differences are a poor assumption at the tens of cases a test set
  usually has; Wilcoxon needs only symmetric differences, and loses little power when they
  are normal (asymptotic relative efficiency 0.955). Zero differences are dropped
  (``zero_method="wilcox"``); with ties scipy uses the normal approximation with a tie
  correction.

The verdict is impact's: better or worse when p < 0.05 and the difference points that
way, otherwise inconclusive. The overall verdict takes the pass/fail tests of every
evaluator with Holm's correction (so more evaluators do not mean more false alarms): worse
if any says worse, better if some say better and none worse. A case whose call or
evaluator failed (an error) is left out of that evaluator's pairs and counted apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from promptdeck.domain.completions import Usage
from promptdeck.domain.evaluators import Result
from promptdeck.domain.impact import ALPHA, Interval, Verdict, mean_interval, rate_interval


@dataclass(frozen=True, slots=True)
class CaseRun:
    """One version run on one case: each evaluator's result (by name) and the call's figures.
    ``failed``: the call gave no answer, and every evaluator counts as an error."""

    case: int | str
    results: Mapping[str, Result]
    latency_ms: float | None = None
    usage: Usage | None = None
    cost: float | None = None
    failed: bool = False

    def mark(self, evaluator: str) -> Result | None:
        """The evaluator's result, or None when there is none to count (an error)."""
        found = self.results.get(evaluator)
        return None if self.failed or found is None or found.error else found


@dataclass(slots=True)
class EvaluatorSummary:
    name: str
    n: int  # cases judged (errors left out)
    passed: int
    errors: int
    pass_rate: Interval  # with its 95% Wilson interval
    score_n: int
    mean_score: Interval  # with its 95% t interval


@dataclass(slots=True)
class VersionSummary:
    cases: int
    failed_calls: int
    evaluators: list[EvaluatorSummary]
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # None: no case had a cost (no price for the model)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolated linearly between the closest ranks."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def summarize(runs: Sequence[CaseRun], evaluators: Sequence[str]) -> VersionSummary:
    found = []
    for name in evaluators:
        marks = [r.mark(name) for r in runs]
        judged = [m for m in marks if m is not None]
        passed = sum(m.passed for m in judged)
        scores = [m.score for m in judged if m.score is not None]
        found.append(
            EvaluatorSummary(
                name=name,
                n=len(judged),
                passed=passed,
                errors=len(marks) - len(judged),
                pass_rate=rate_interval(passed, len(judged)),
                score_n=len(scores),
                mean_score=mean_interval(len(scores), sum(scores), sum(s * s for s in scores)),
            )
        )
    latencies = [r.latency_ms for r in runs if r.latency_ms is not None and not r.failed]
    costs = [r.cost for r in runs if r.cost is not None]
    return VersionSummary(
        cases=len(runs),
        failed_calls=sum(r.failed for r in runs),
        evaluators=found,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        prompt_tokens=sum((r.usage.prompt_tokens or 0) for r in runs if r.usage),
        completion_tokens=sum((r.usage.completion_tokens or 0) for r in runs if r.usage),
        cost=sum(costs) if costs else None,
    )


# --- two versions on the same cases --------------------------------------------------------


@dataclass(slots=True)
class PairedComparison:
    """B (the candidate) against A (the baseline) on one evaluator's pass/fail or score."""

    evaluator: str
    measure: str  # "pass_rate" or "score"
    pairs: int  # cases judged on both versions
    a: float | None  # A's pass rate or mean score on those cases
    b: float | None
    test: str  # "mcnemar_exact", "wilcoxon" or "none"
    p_value: float | None
    verdict: Verdict
    a_only: int = 0  # pass/fail: cases passed by A alone (discordant)
    b_only: int = 0  # ... by B alone
    p_adjusted: float | None = None  # Holm's, over the pass/fail tests of every evaluator


@dataclass(slots=True)
class EvaluationComparison:
    comparisons: list[PairedComparison]
    verdict: Verdict
    reason: str
    cases: int  # cases run on both versions
    errors: dict[str, int] = field(default_factory=dict)  # per evaluator: pairs left out


def _direction(p: float | None, diff: float) -> Verdict:
    if p is None or not p < ALPHA or diff == 0:
        return "inconclusive"
    return "better" if diff > 0 else "worse"


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (1.0 when there are none)."""
    n = a_only + b_only
    return 1.0 if n == 0 else float(stats.binomtest(b_only, n, 0.5).pvalue)


def compare_passes(name: str, pairs: Sequence[tuple[bool, bool]]) -> PairedComparison:
    a_only = sum(a and not b for a, b in pairs)
    b_only = sum(b and not a for a, b in pairs)
    if not pairs:
        return PairedComparison(name, "pass_rate", 0, None, None, "none", None, "inconclusive")
    p = mcnemar_exact(a_only, b_only)
    rate_a = sum(a for a, _ in pairs) / len(pairs)
    rate_b = sum(b for _, b in pairs) / len(pairs)
    return PairedComparison(
        name,
        "pass_rate",
        len(pairs),
        rate_a,
        rate_b,
        "mcnemar_exact",
        p,
        _direction(p, b_only - a_only),
        a_only,
        b_only,
    )


def signed_rank_sum(diffs: Sequence[float]) -> float:
    """W+ minus W-: the sum of the signed ranks of the non-zero differences (ties share
    their mean rank); its sign is the direction the Wilcoxon test looks at."""
    nonzero = np.asarray([d for d in diffs if d != 0], dtype=float)
    if nonzero.size == 0:
        return 0.0
    ranks = stats.rankdata(np.abs(nonzero))
    return float(np.sum(np.sign(nonzero) * ranks))


def wilcoxon_p(diffs: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (1.0 when all are 0)."""
    if not any(d != 0 for d in diffs):
        return 1.0
    return float(stats.wilcoxon(diffs, zero_method="wilcox", alternative="two-sided").pvalue)


def compare_scores(name: str, pairs: Sequence[tuple[float, float]]) -> PairedComparison:
    if len(pairs) < 2:
        a = pairs[0][0] if pairs else None
        b = pairs[0][1] if pairs else None
        return PairedComparison(name, "score", len(pairs), a, b, "none", None, "inconclusive")
    diffs = [b - a for a, b in pairs]
    p = wilcoxon_p(diffs)
    return PairedComparison(
        name,
        "score",
        len(pairs),
        sum(a for a, _ in pairs) / len(pairs),
        sum(b for _, b in pairs) / len(pairs),
        "wilcoxon",
        p,
        _direction(p, signed_rank_sum(diffs)),
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def compare(
    a: Sequence[CaseRun], b: Sequence[CaseRun], evaluators: Sequence[str]
) -> EvaluationComparison:
    """B (the candidate) against A (the baseline), on the cases both ran."""
    by_case = {r.case: r for r in a}
    both = [(by_case[r.case], r) for r in b if r.case in by_case]
    comparisons: list[PairedComparison] = []
    errors: dict[str, int] = {}
    passes: list[PairedComparison] = []
    for name in evaluators:
        marks = [(x.mark(name), y.mark(name)) for x, y in both]
        judged = [(x, y) for x, y in marks if x is not None and y is not None]
        errors[name] = len(marks) - len(judged)
        passed = compare_passes(name, [(x.passed, y.passed) for x, y in judged])
        passes.append(passed)
        comparisons.append(passed)
        scored = [
            (x.score, y.score) for x, y in judged if x.score is not None and y.score is not None
        ]
        # A score that is only ever 0 or 1 is the pass/fail again: no second test of it.
        if any(s not in (0.0, 1.0) for pair in scored for s in pair):
            comparisons.append(compare_scores(name, scored))
    tested = [c for c in passes if c.p_value is not None]
    for c, p in zip(tested, holm([c.p_value or 1.0 for c in tested]), strict=True):
        c.p_adjusted = p
        c.verdict = _direction(p, c.b_only - c.a_only)
    worse = [c.evaluator for c in tested if c.verdict == "worse"]
    better = [c.evaluator for c in tested if c.verdict == "better"]
    if worse:
        verdict: Verdict = "worse"
        reason = f"fails more cases on {', '.join(worse)}"
    elif better:
        verdict, reason = "better", f"passes more cases on {', '.join(better)}"
    else:
        verdict, reason = "inconclusive", "no evaluator tells the versions apart"
    return EvaluationComparison(comparisons, verdict, reason, len(both), errors)


# --- the gate's arithmetic ------------------------------------------------------------------


def unmet(summary: VersionSummary, thresholds: Mapping[str, float]) -> list[str]:
    """The evaluators whose pass rate is under the threshold set for them (a protected
    label's requirement), each said as "name: 0.82 < 0.90". Here a case the evaluator could
    not judge (an error, a failed call) counts as not passed: a gate is not met by cases
    that were never judged."""
    found_by_name = {e.name: e for e in summary.evaluators}
    found = []
    for name, least in thresholds.items():
        e = found_by_name.get(name)
        cases = 0 if e is None else e.n + e.errors
        rate = None if e is None or cases == 0 else e.passed / cases
        if rate is None or rate < least:
            shown = "no cases judged" if rate is None else f"{rate:.2f}"
            found.append(f"{name}: {shown} < {least:.2f}")
    return found
