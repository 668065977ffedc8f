"""The rollout guard in seeded simulations (issue 24), no server: how often it rolls back an
equal candidate when checked after every batch (against a fixed-sample z-test checked as
often), and how many outcomes it needs to catch a worse one. Outcomes are drawn as sums
per batch (binomial counts), exactly what the server holds.

    nice -n 10 .venv/bin/python -m bench.rollout_guard            # about 5 minutes
    nice -n 10 .venv/bin/python -m bench.rollout_guard --runs 200 # a quick look

Every verdict is ``guard.judge`` (or ``decide`` for the whole plan), the code the server
runs; the fixed-sample test is the z-test on the difference of the arms' rates,
one-sided at the same level, applied at every look once both arms have min_outcomes.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import stats

from promptdeck.domain import impact
from promptdeck.domain.rollouts import decide as decide_
from promptdeck.domain.rollouts import guard, state
from promptdeck.domain.rollouts.guard import ArmSums, StepArms
from promptdeck.domain.rollouts.plan import parse_plan

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
MIN_OUTCOMES = 200
Z_FIXED = float(stats.norm.ppf(1 - ALPHA))


@dataclass
class Outcome:
    rolled_back: bool
    candidate_n: int  # candidate outcomes when it was rolled back (or at the end)
    naive: bool = False  # the fixed-sample test would have rolled back at some look


def _naive_worse(n_b: int, k_b: int, n_c: int, k_c: int, margin: float) -> bool:
    if min(n_b, n_c) < MIN_OUTCOMES:
        return False
    p_b, p_c = k_b / n_b, k_c / n_c
    se = math.sqrt(p_b * (1 - p_b) / n_b + p_c * (1 - p_c) / n_c)
    return se > 0 and (p_c - p_b + margin) / se < -Z_FIXED


def rates_run(
    rng: np.random.Generator,
    p_base: float,
    p_cand: float,
    *,
    share: float,
    batch: int,
    looks: int,
    margin: float,
) -> Outcome:
    """One run at a fixed share: after each batch of ``batch`` outcomes (split by the
    share, as hashed keys would be), the guard looks at the sums."""
    n_b = k_b = n_c = k_c = 0
    naive = False
    caught: int | None = None  # candidate outcomes when the guard rolled back
    for _ in range(looks):
        c = int(rng.binomial(batch, share)) if share < 0.5 else batch // 2
        b = batch - c
        n_b += b
        n_c += c
        k_b += int(rng.binomial(b, p_base))
        k_c += int(rng.binomial(c, p_cand))
        naive = naive or _naive_worse(n_b, k_b, n_c, k_c, margin)
        if caught is None:
            step = StepArms(ArmSums(n_b, n_b, k_b), ArmSums(n_c, n_c, k_c))
            j = guard.judge(
                "success_rate",
                margin,
                [step],
                alpha=ALPHA,
                min_outcomes=MIN_OUTCOMES,
                first_share=share,
            )
            caught = n_c if j.verdict == "worse" else None
        if caught is not None and naive:
            break  # both have spoken
    return Outcome(caught is not None, n_c if caught is None else caught, naive)


def stepped_aa_run(rng: np.random.Generator, pooled: bool) -> Outcome:
    """A/A through the shares 5%, 25%, 50% (20 batches of 1,000 outcomes each), the success
    rate swinging between 92% and 82% every 7 batches (day and night) on both arms alike.
    ``pooled``: the guard fed the totals as if one step (what stratifying avoids)."""
    shares = (0.05, 0.25, 0.5)
    cells = [[0, 0, 0, 0] for _ in shares]  # n_b, k_b, n_c, k_c per step
    for look in range(60):
        k = look // 20
        p = 0.92 if (look // 7) % 2 == 0 else 0.82
        c = int(rng.binomial(1_000, shares[k]))
        cell = cells[k]
        cell[0] += 1_000 - c
        cell[1] += int(rng.binomial(1_000 - c, p))
        cell[2] += c
        cell[3] += int(rng.binomial(c, p))
        steps = [StepArms(ArmSums(a, a, b), ArmSums(x, x, y)) for a, b, x, y in cells[: k + 1]]
        if pooled:
            t = [sum(cell[i] for cell in cells) for i in range(4)]
            steps = [StepArms(ArmSums(t[0], t[0], t[1]), ArmSums(t[2], t[2], t[3]))]
        j = guard.judge(
            "success_rate", 0.0, steps, alpha=ALPHA, min_outcomes=MIN_OUTCOMES, first_share=0.05
        )
        if j.verdict == "worse":
            return Outcome(True, sum(cell[2] for cell in cells))
    return Outcome(False, sum(cell[2] for cell in cells))


def _edge(bucket: int) -> float:
    """The smallest latency counted above ``bucket`` (bisection in log space)."""
    low, high = math.log(0.01), math.log(86_400_000.0)
    for _ in range(80):
        mid = (low + high) / 2
        if impact.latency_bucket(math.exp(mid)) > bucket:
            high = mid
        else:
            low = mid
    return math.exp(high)


def latency_aa_run(rng: np.random.Generator, slower: float = 1.0) -> Outcome:
    """A/A on latency p95 (lognormal, median 800 ms), 50/50, with max_increase_ms 0: the
    baseline's first 200 latencies freeze the threshold, then 400 batches of 50 per arm
    count the latencies above it. ``slower`` multiplies the candidate's latencies."""
    first = rng.lognormal(math.log(800), 0.5, MIN_OUTCOMES)
    sketch: dict[int, int] = {}
    for ms in first:
        b = impact.latency_bucket(float(ms))
        sketch[b] = sketch.get(b, 0) + 1
    cutoffs = guard.latency_cutoffs(sketch.items(), 0.0, datetime.now(UTC))
    assert cutoffs is not None
    dist = stats.lognorm(0.5, scale=800)
    p_b = float(dist.sf(_edge(cutoffs.baseline_bucket)))
    p_c = float(dist.sf(_edge(cutoffs.candidate_bucket) / slower))
    n = o_b = o_c = 0
    for _ in range(400):
        n += 50
        o_b += int(rng.binomial(50, p_b))
        o_c += int(rng.binomial(50, p_c))
        step = StepArms(ArmSums(tail_n=n, tail_over=o_b), ArmSums(tail_n=n, tail_over=o_c))
        j = guard.judge(
            "latency_p95", 0.0, [step], alpha=ALPHA, min_outcomes=MIN_OUTCOMES, first_share=0.5
        )
        if j.verdict == "worse":
            return Outcome(True, n)
    return Outcome(False, n)


def plan_run(rng: np.random.Generator, p_cand: float) -> tuple[str, int]:
    """The issue's plan through ``decide``: steps 5/25/50/100, 30 minutes and 500 candidate
    outcomes a step, min 200 per arm, max drop 0.02; a batch of 1,000 outcomes a minute.
    Returns the final status and the share (in %) it reached."""
    plan = parse_plan(
        {
            "version_id": 2,
            "steps": [5, 25, 50, 100],
            "guard": {"measure": "success_rate", "max_drop": 0.02, "min_outcomes": 200},
            "step_after": {"minutes": 30, "outcomes": 500},
        }
    )
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    current = state.start(plan, 1, t0, "bench").state
    cells: list[list[int]] = []
    for minute in range(1, 24 * 60):
        share = current.basis_points / 10_000
        while len(cells) <= current.step:
            cells.append([0, 0, 0, 0])
        cell = cells[current.step]
        c = int(rng.binomial(1_000, share))
        cell[0] += 1_000 - c
        cell[1] += int(rng.binomial(1_000 - c, 0.9))
        cell[2] += c
        cell[3] += int(rng.binomial(c, p_cand))
        steps = [StepArms(ArmSums(a, a, b), ArmSums(x, x, y)) for a, b, x, y in cells]
        now = t0 + timedelta(minutes=minute)
        change = decide_.apply(current, decide_.decide(current, steps, now), now)
        if change is not None:
            reached = current.percent
            current = change.state
            if current.status != "running":
                return current.status, int(reached)
    return current.status, int(current.percent)


def _summary(results: list[Outcome]) -> tuple[float, str, str]:
    caught = sorted(r.candidate_n for r in results if r.rolled_back)
    rate = len(caught) / len(results)
    if not caught:
        return rate, "-", "-"
    return rate, f"{int(np.median(caught)):,}", f"{int(np.percentile(caught, 95)):,}"


def _runs(n: int, seed: int, one: Callable[[np.random.Generator], Outcome]) -> list[Outcome]:
    rng = np.random.default_rng(seed)
    return [one(rng) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2_000, help="runs of each A/A scenario")
    parser.add_argument("--seed", type=int, default=24)
    args = parser.parse_args()
    runs, seed = args.runs, args.seed
    started = time.perf_counter()

    print(f"confidence {CONFIDENCE}, min_outcomes {MIN_OUTCOMES} per arm, seed {seed}\n")
    print("## A/A: how often an equal candidate is rolled back (must be at most 5%)\n")
    print("| scenario | looks | runs | guard | fixed-sample z-test at every look |")
    print("|---|---|---|---|---|")
    aa = _runs(
        runs,
        seed,
        lambda r: rates_run(r, 0.9, 0.9, share=0.5, batch=100, looks=400, margin=0.0),
    )
    print(
        f"| success 90% vs 90%, 50/50, max_drop 0, a look every 50 outcomes per arm to "
        f"20,000 | 400 | {runs:,} | {_summary(aa)[0]:.2%} | "
        f"{sum(r.naive for r in aa) / runs:.2%} |"
    )
    aa5 = _runs(
        runs,
        seed + 1,
        lambda r: rates_run(r, 0.9, 0.9, share=0.05, batch=1_000, looks=400, margin=0.0),
    )
    print(
        f"| success 90% vs 90% at 5%, max_drop 0, a look every 1,000 outcomes to 400,000 | "
        f"400 | {runs:,} | {_summary(aa5)[0]:.2%} | {sum(r.naive for r in aa5) / runs:.2%} |"
    )
    near1 = _runs(
        runs,
        seed + 2,
        lambda r: rates_run(r, 0.99, 0.99, share=0.05, batch=1_000, looks=400, margin=0.0),
    )
    print(
        f"| success 99% vs 99% at 5% (rare failures), max_drop 0 | 400 | {runs:,} | "
        f"{_summary(near1)[0]:.2%} | {sum(r.naive for r in near1) / runs:.2%} |"
    )
    stepped = _runs(runs // 2, seed + 3, lambda r: stepped_aa_run(r, pooled=False))
    pooled = _runs(runs // 2, seed + 3, lambda r: stepped_aa_run(r, pooled=True))
    print(
        f"| steps 5/25/50%, success swinging 92%/82% on both arms: steps compared within "
        f"themselves (pooled as one step) | 60 | {runs // 2:,} | {_summary(stepped)[0]:.2%} "
        f"({_summary(pooled)[0]:.2%} pooled) | |"
    )
    lat = _runs(runs, seed + 4, latency_aa_run)
    print(
        f"| latency p95, lognormal both arms, max_increase_ms 0, a look every 50 per arm "
        f"after the freeze | 400 | {runs:,} | {_summary(lat)[0]:.2%} | |"
    )

    print("\n## A worse candidate (at 5% unless said): candidate outcomes until rolled back\n")
    print("| baseline → candidate | max_drop | runs | rolled back | median | p95 |")
    print("|---|---|---|---|---|---|")
    cases = [(0.90, 0.80, 0.02), (0.90, 0.85, 0.02), (0.90, 0.85, 0.0), (0.90, 0.88, 0.0)]
    cases += [(0.90, 0.88, 0.02)]
    for i, (p_b, p_c, margin) in enumerate(cases):
        n = max(runs // 4, 50)
        found = _runs(
            n,
            seed + 10 + i,
            lambda r, p_b=p_b, p_c=p_c, margin=margin: rates_run(
                r, p_b, p_c, share=0.05, batch=1_000, looks=400, margin=margin
            ),
        )
        rate, median, p95 = _summary(found)
        print(f"| {p_b:.0%} → {p_c:.0%} | {margin:g} | {n:,} | {rate:.1%} | {median} | {p95} |")
    slow = _runs(max(runs // 4, 50), seed + 20, lambda r: latency_aa_run(r, slower=1.2))
    rate, median, p95 = _summary(slow)
    print(
        f"| latency 20% slower (p95 about 1,820 → 2,180 ms), 50/50 | max_increase_ms 0 | "
        f"{len(slow):,} | {rate:.1%} | {median} | {p95} |"
    )

    print("\n## The issue's plan through decide(): 5/25/50/100%, 500 outcomes a step\n")
    print("| candidate | runs | rolled back | completed | rolled back at 5% (before step two) |")
    print("|---|---|---|---|---|")
    for p_cand in (0.80, 0.90):
        rng = np.random.default_rng(seed + 30)
        n = max(runs // 10, 20)
        ends = [plan_run(rng, p_cand) for _ in range(n)]
        back = sum(1 for s, _ in ends if s == "rolled_back")
        done = sum(1 for s, _ in ends if s == "completed")
        first = sum(1 for s, at in ends if s == "rolled_back" and at == 5)
        print(f"| {p_cand:.0%} vs 90% | {n} | {back / n:.1%} | {done / n:.1%} | {first / n:.1%} |")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
