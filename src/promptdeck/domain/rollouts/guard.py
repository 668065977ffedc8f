"""The guard: is the candidate worse than allowed? Judged after every batch of outcomes, so
the answer must hold however often it is asked: a confidence sequence, not a p-value.

What it holds: per step and per arm, the sums the server keeps (counts, successes, score
sums and squares, and for latency the outcomes above a frozen threshold). Per measure:

1. The difference candidate - baseline is estimated within each step (each step has its own
   split, and its own hours of the day: pooling steps of 5% and 50% would compare nights
   with days, Simpson's paradox) and the steps are combined by inverse variance:
   ``S = Σ d_k / v_k``, ``I = Σ 1 / v_k`` (v_k = s_c²/n_ck + s_b²/n_bk, each arm's
   variance pooled within steps). In information time I, S - Δ·I moves like a Brownian
   motion: its increments are independent and of variance dI.
2. The one-sided normal-mixture boundary of Howard, Ramdas, McAuliffe and Sekhon (2021),
   "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2),
   §3 (mixture over λ ≥ 0 of exp(λS - λ²I/2), λ half-normal): with g = I/rho,
       M(u) = 2/√(1+g) · exp(u² g / (2(1+g))) · Φ(u √(g/(1+g))),   u = (S - ΔI)/√I,
   is a nonnegative supermartingale, so by Ville's inequality M never reaches 1/alpha with
   probability at least 1 - alpha: Δ ≤ Δ̂ + z/√I at every check at once, z solving
   M(z) = 1/alpha. Variances are estimated (plugged in), which makes it the asymptotic
   confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas (2024),
   "Time-uniform central limit theory and asymptotic confidence sequences", Ann. Statist.
   52(6): valid as outcomes grow, hence ``min_outcomes`` per arm before judging.
3. rho is tuned so the boundary is tightest when the first step's candidate reaches
   ``min_outcomes`` (Howard et al.'s ``best_rho`` for one side: rho = v* / c with
   c = 2 L + log(1 + 2 L), L = log(1 / (2 alpha))), time measured in effective pairs
   J = Σ n_c n_b / (n_c + n_b) so that no variance enters rho: g = c J / J*, exact when
   the arms' variances are equal (an equal candidate's are).
4. Several measures share the error: each is judged at alpha / k (Bonferroni), so an equal
   candidate is rolled back with probability at most 1 - confidence in all.

Latency p95 (a quantile has no running sum): once the baseline has ``min_outcomes``
latencies, its p95 is frozen as a sketch bucket b0 and the candidate's threshold is b0's
value plus ``max_increase_ms`` (bucket b1 ≥ b0). From then on each arm counts its latencies
above its own threshold, and the guard asks whether the candidate's share above b1 exceeds
the baseline's share above b0: that is, whether the candidate's quantile at the baseline's
level F_b(b0) (about 0.95) is more than ``max_increase_ms`` above the baseline's. An equal
candidate has the smaller share whatever b0 is (b1 ≥ b0), so its error stays below alpha
even though b0 is estimated. Limits: only latencies after the freeze count; the level is
about the 95th percentile (frozen from 200 latencies, it lies between the 92nd and the 98th
within two standard errors), and thresholds move in the sketch's 1% steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from promptdeck.domain import impact
from promptdeck.domain.rollouts.plan import Measure, RolloutPlan
from promptdeck.domain.rollouts.state import LatencyCutoffs, RolloutState

Verdict = Literal["pending", "within", "worse"]
LATENCY_Q = 0.95
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class ArmSums:
    """One arm's outcomes in one step, as the server sums them."""

    count: int = 0
    success_n: int = 0  # outcomes that said whether they succeeded
    success_true: int = 0
    score_n: int = 0
    score_sum: float = 0.0
    score_sq: float = 0.0
    tail_n: int = 0  # latencies reported after the latency thresholds were frozen
    tail_over: int = 0  # of those, above this arm's threshold

    @classmethod
    def of(cls, sums: impact.Sums, tail_n: int = 0, tail_over: int = 0) -> ArmSums:
        return cls(
            count=sums.count,
            success_n=sums.success_n,
            success_true=sums.success_true,
            score_n=sums.score_n,
            score_sum=sums.score_sum,
            score_sq=sums.score_sq,
            tail_n=tail_n,
            tail_over=tail_over,
        )


@dataclass(frozen=True, slots=True)
class StepArms:
    baseline: ArmSums
    candidate: ArmSums


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the guard says of one measure. Values are rates (success, and for latency the
    share of outcomes above the arm's threshold) or mean scores; ``difference`` is
    candidate - baseline (steps combined), ``low``..``high`` its confidence sequence (each
    end one-sided at the guard's confidence). Worse: ``high`` below -max_drop (success rate,
    mean score), ``low`` above 0 (latency, whose margin is in the thresholds)."""

    measure: Measure
    margin: float
    verdict: Verdict
    baseline_n: int
    candidate_n: int
    baseline: float | None
    candidate: float | None
    difference: float | None
    low: float | None
    high: float | None

    @property
    def higher_is_better(self) -> bool:
        return self.measure != "latency_p95"


def _moments(arm: ArmSums, measure: Measure) -> tuple[int, float, float]:
    """(n, sum, sum of squares) of the measure's values in this arm."""
    if measure == "success_rate":
        return arm.success_n, float(arm.success_true), float(arm.success_true)
    if measure == "mean_score":
        return arm.score_n, arm.score_sum, arm.score_sq
    return arm.tail_n, float(arm.tail_over), float(arm.tail_over)


def _variance(cells: list[tuple[int, float, float]], binary: bool) -> float:
    """One arm's variance, pooled within steps (a step's mean is its own); for 0/1 values
    never below that of (successes + ½) / (n + 1), so a run of all successes is not
    taken for certainty."""
    n = sum(c[0] for c in cells)
    within = sum(q - s * s / k for k, s, q in cells if k > 0)
    df = n - sum(1 for c in cells if c[0] > 0)
    variance = max(within, 0.0) / df if df > 0 else 0.0
    if binary:
        smoothed = (sum(c[1] for c in cells) + 0.5) / (n + 1)
        variance = max(variance, smoothed * (1 - smoothed))
    return variance


def one_sided_z(g: float, alpha: float) -> float:
    """z with M(z) = 1/alpha for the one-sided normal mixture (the module's docstring), by
    Newton's method from the two-sided closed form, which lies above the root: log M is
    increasing and convex in z (the inverse Mills ratio's slope is above -1), so the steps
    fall monotonically onto it."""
    h = g / (1 + g)
    root_h = math.sqrt(h)
    target = math.log(1 / alpha) - math.log(2) + 0.5 * math.log1p(g)
    z = math.sqrt((1 + 1 / g) * (math.log1p(g) + 2 * math.log(1 / alpha)))
    for _ in range(50):
        x = z * root_h
        cdf = 0.5 * math.erfc(-x / _SQRT2)
        f = z * z * h / 2 + math.log(cdf) - target
        slope = z * h + root_h * math.exp(-x * x / 2) / _SQRT2PI / cdf
        step = f / slope
        z -= step
        if abs(step) < 1e-12:
            break
    return z


def tuning(alpha: float) -> float:
    """Howard et al.'s c: rho = v* / c puts the one-sided boundary's tightest point at v*."""
    log_term = math.log(1 / min(2 * alpha, 0.5))
    return 2 * log_term + math.log1p(2 * log_term)


def judge(
    measure: Measure,
    margin: float,
    steps: Sequence[StepArms],
    *,
    alpha: float,
    min_outcomes: int,
    first_share: float,
) -> Judgement:
    """The guard's verdict on one measure at level ``alpha`` (already divided among the
    measures). ``first_share`` is the first step's share in (0, 1): it fixes when the
    boundary is tightest (the module's docstring, point 3)."""
    base = [_moments(s.baseline, measure) for s in steps]
    cand = [_moments(s.candidate, measure) for s in steps]
    n_b, n_c = sum(c[0] for c in base), sum(c[0] for c in cand)
    mean_b = sum(c[1] for c in base) / n_b if n_b else None
    mean_c = sum(c[1] for c in cand) / n_c if n_c else None

    def verdict(v: Verdict, diff: float | None = None, low: float | None = None,
                high: float | None = None) -> Judgement:  # fmt: skip
        return Judgement(measure, margin, v, n_b, n_c, mean_b, mean_c, diff, low, high)

    if n_b < min_outcomes or n_c < min_outcomes:
        return verdict("pending")
    binary = measure != "mean_score"
    var_b, var_c = _variance(base, binary), _variance(cand, binary)
    score = info = pairs = weighted = 0.0
    for (kb, sb, _), (kc, sc, _) in zip(base, cand, strict=True):
        if kb == 0 or kc == 0:
            continue  # a step seen by one arm only compares nothing
        d = sc / kc - sb / kb
        weight = kb * kc / (kb + kc)  # effective pairs
        pairs += weight
        weighted += d * weight
        if var_b > 0 or var_c > 0:
            v = var_c / kc + var_b / kb
            score += d / v
            info += 1 / v
    if pairs == 0:
        return verdict("pending")
    if info == 0:  # scores constant in both arms: the difference is known exactly
        diff = low = high = weighted / pairs
    else:
        diff = score / info
        optimum = min_outcomes * max(first_share, 1 - first_share)  # J* (point 3)
        half = one_sided_z(tuning(alpha) * pairs / optimum, alpha) / math.sqrt(info)
        low, high = diff - half, diff + half
    worse = high < -margin if measure != "latency_p95" else low > 0
    return verdict("worse" if worse else "within", diff, low, high)


def judge_all(plan: RolloutPlan, steps: Sequence[StepArms]) -> tuple[Judgement, ...]:
    guard = plan.guard
    alpha = (1 - guard.confidence) / len(guard.margins)
    return tuple(
        judge(
            m.measure,
            m.value,
            steps,
            alpha=alpha,
            min_outcomes=guard.min_outcomes,
            first_share=plan.steps[0] / 10_000,
        )
        for m in guard.margins
    )


# --- latency thresholds --------------------------------------------------------------------


def latency_due(state: RolloutState, baseline_latencies: int) -> bool:
    """Whether to freeze the thresholds now: the guard judges latency, none is frozen yet,
    and the baseline has ``min_outcomes`` latencies since the rollout started."""
    plan = state.plan
    return (
        "latency_p95" in plan.guard.measures
        and state.cutoffs is None
        and state.status in ("running", "paused")
        and baseline_latencies >= plan.guard.min_outcomes
    )


def latency_cutoffs(
    baseline_buckets: Iterable[tuple[int, int]], max_increase_ms: float, now: datetime
) -> LatencyCutoffs | None:
    """The thresholds from the baseline's latency sketch since the rollout started ((bucket,
    count) rows, as ``impact`` keeps them); None while it holds no latency."""
    b0 = impact.quantile_bucket(baseline_buckets, LATENCY_Q)
    if b0 is None:
        return None
    p95 = impact.bucket_value(b0)
    b1 = max(b0, impact.latency_bucket(p95 + max_increase_ms))
    return LatencyCutoffs(
        baseline_bucket=b0, candidate_bucket=b1, baseline_p95_ms=p95, frozen_at=now
    )


def over(latency_ms: float, cutoff_bucket: int) -> bool:
    """Whether a latency counts above an arm's threshold (ingest's ``tail_over``)."""
    return impact.latency_bucket(latency_ms) > cutoff_bucket


# --- sentences -----------------------------------------------------------------------------


def _value(measure: Measure, x: float) -> str:
    return f"{x:.1%}" if measure != "mean_score" else f"{x:.4g}"


def _gap(measure: Measure, x: float) -> str:
    return f"{x * 100:.1f} points" if measure != "mean_score" else f"{x:.4g}"


def describe(j: Judgement, min_outcomes: int, confidence: float) -> str:
    """One sentence with the figures: why the guard said what it said."""
    name = j.measure.replace("_", " ")
    counts = f"{j.candidate_n:,} candidate and {j.baseline_n:,} baseline outcomes"
    if j.difference is None or j.low is None or j.high is None:
        if j.measure == "latency_p95":
            counts = (
                f"{j.candidate_n:,} candidate and {j.baseline_n:,} baseline latencies since "
                "the baseline's p95 was frozen"
            )
        return f"{name}: not judged yet: {counts}, it needs {min_outcomes:,} in each arm"
    b, c = j.baseline or 0.0, j.candidate or 0.0
    level = f"{confidence * 100:g}% confidence"
    between = f"between {_gap(j.measure, j.low)} and {_gap(j.measure, j.high)} at {level}"
    if j.measure == "latency_p95":
        said = "the candidate is slower than allowed" if j.verdict == "worse" else "within bounds"
        what = (
            f"{_value(j.measure, c)} of candidate latencies above the baseline's p95 plus "
            f"{j.margin:g} ms, against {_value(j.measure, b)} of the baseline's above its "
            f"p95: a difference of {_gap(j.measure, j.difference)}, {between}"
        )
    else:
        said = "the candidate is worse than allowed" if j.verdict == "worse" else "within bounds"
        what = (
            f"{_value(j.measure, c)} against {_value(j.measure, b)}: a difference of "
            f"{_gap(j.measure, j.difference)}, {between}; allowed drop {_gap(j.measure, j.margin)}"
        )
    return f"{name}: {said}: {what}; {counts}"
