"""The guard's statistics (domain/rollouts/guard.py): the confidence sequence's boundary,
verdicts on sums, steps compared within themselves, latency thresholds, and an equal
candidate rarely rolled back however often it is checked."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special, stats

from promptdeck.domain import impact
from promptdeck.domain.rollouts import guard
from promptdeck.domain.rollouts import state as sm
from promptdeck.domain.rollouts.guard import ArmSums, StepArms
from promptdeck.domain.rollouts.plan import Measure, parse_plan

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def rates(n_b: int, k_b: int, n_c: int, k_c: int) -> StepArms:
    return StepArms(ArmSums(n_b, n_b, k_b), ArmSums(n_c, n_c, k_c))


def judge_rate(steps: list[StepArms], margin: float = 0.02, alpha: float = 0.05) -> guard.Judgement:
    return guard.judge(
        "success_rate", margin, steps, alpha=alpha, min_outcomes=200, first_share=0.05
    )


@pytest.mark.parametrize("g", [0.01, 0.3, 1.0, 6.3, 100.0, 1e6])
@pytest.mark.parametrize("alpha", [0.5, 0.05, 0.001])
def test_the_boundary_is_where_the_one_sided_normal_mixture_reaches_one_over_alpha(
    g: float, alpha: float
) -> None:
    def log_mixture(u: float) -> float:
        h = g / (1 + g)
        return (
            math.log(2) - 0.5 * math.log1p(g) + u * u * h / 2 + special.log_ndtr(u * math.sqrt(h))
        )

    root = optimize.brentq(lambda u: log_mixture(u) - math.log(1 / alpha), 0, 100, xtol=1e-13)
    assert guard.one_sided_z(g, alpha) == pytest.approx(root, abs=1e-9)


def test_the_boundary_is_wider_than_a_fixed_sample_test_and_grows_slowly() -> None:
    fixed = stats.norm.ppf(0.95)
    c = guard.tuning(0.05)
    zs = [guard.one_sided_z(c * r, 0.05) for r in (1, 10, 100, 10_000)]
    assert all(z > fixed for z in zs)
    assert zs[1] < zs[2] < zs[3] < 2 * zs[0]  # the price of looking at every batch: a log


def test_a_candidate_ten_points_worse_is_judged_worse_with_its_figures() -> None:
    j = judge_rate([rates(9_500, 8_550, 500, 400)])
    assert j.verdict == "worse"
    assert (j.baseline, j.candidate) == (0.9, 0.8)
    assert j.difference == pytest.approx(-0.1)
    assert j.low is not None and j.high is not None
    assert j.low < -0.1 < j.high < -0.02
    sentence = guard.describe(j, 200, 0.95)
    assert "worse than allowed" in sentence
    assert "80.0% against 90.0%" in sentence and "-10.0 points" in sentence
    assert "500 candidate and 9,500 baseline outcomes" in sentence


def test_an_equal_candidate_is_within_bounds() -> None:
    j = judge_rate([rates(9_500, 8_550, 500, 450)])
    assert j.verdict == "within"
    assert j.difference == pytest.approx(0.0)
    assert j.low is not None and j.high is not None and j.low < 0 < j.high


def test_a_drop_inside_the_allowed_margin_is_not_rolled_back_however_sure() -> None:
    j = judge_rate([rates(500_000, 450_000, 500_000, 445_000)], margin=0.02)
    assert j.high is not None and j.high < 0  # surely worse, by one point
    assert j.verdict == "within"


def test_nothing_is_judged_before_both_arms_have_their_minimum() -> None:
    j = judge_rate([rates(9_500, 8_550, 199, 0)])
    assert (j.verdict, j.difference, j.candidate_n) == ("pending", None, 199)
    assert "needs 200 in each arm" in guard.describe(j, 200, 0.95)


def test_steps_are_compared_within_themselves_so_a_change_of_hour_is_no_difference() -> None:
    # The first step ran at night (95% success on both arms), the second by day (80% on
    # both): pooled, the candidate (mostly seen by day) would look 9 points worse.
    steps = [rates(19_000, 18_050, 1_000, 950), rates(10_000, 8_000, 10_000, 8_000)]
    pooled_b = (18_050 + 8_000) / 29_000
    pooled_c = (950 + 8_000) / 11_000
    assert pooled_c - pooled_b < -0.08
    j = judge_rate(steps)
    assert j.difference == pytest.approx(0.0, abs=1e-12)
    assert j.verdict == "within"


def test_a_step_that_one_arm_never_saw_compares_nothing() -> None:
    j = judge_rate([rates(5_000, 4_500, 0, 0), rates(0, 0, 5_000, 1_000)])
    assert j.verdict == "pending"


def test_constant_scores_give_the_exact_difference() -> None:
    base = ArmSums(score_n=300, score_sum=300.0, score_sq=300.0)
    worse = ArmSums(score_n=300, score_sum=150.0, score_sq=75.0)
    j = guard.judge(
        "mean_score",
        0.1,
        [StepArms(base, worse)],
        alpha=0.05,
        min_outcomes=200,
        first_share=0.5,
    )
    assert (j.difference, j.low, j.high, j.verdict) == (-0.5, -0.5, -0.5, "worse")


def test_several_measures_share_the_error_rate() -> None:
    one = parse_plan(
        {"version_id": 2, "steps": [50, 100], "guard": {"measure": "success_rate", "max_drop": 0}}
    )
    two = parse_plan(
        {
            "version_id": 2,
            "steps": [50, 100],
            "guard": {"measure": ["success_rate", "mean_score"], "max_drop": 0},
        }
    )
    steps = [
        StepArms(
            ArmSums(1_000, 1_000, 900, 1_000, 500.0, 400.0),
            ArmSums(1_000, 1_000, 880, 1_000, 500.0, 400.0),
        )
    ]
    (alone,) = guard.judge_all(one, steps)
    shared = guard.judge_all(two, steps)[0]
    assert alone.high is not None and shared.high is not None
    assert shared.high > alone.high  # judged at alpha / 2: a wider interval


def test_latency_thresholds_are_the_baselines_p95_and_that_plus_the_allowed_increase() -> None:
    latencies = [100.0 + i for i in range(1_000)]  # p95 about 1,050 ms
    sketch: dict[int, int] = {}
    for ms in latencies:
        b = impact.latency_bucket(ms)
        sketch[b] = sketch.get(b, 0) + 1
    cutoffs = guard.latency_cutoffs(sketch.items(), 200.0, T0)
    assert cutoffs is not None
    assert cutoffs.baseline_p95_ms == pytest.approx(1_049, rel=0.02)
    assert impact.bucket_value(cutoffs.candidate_bucket) == pytest.approx(1_249, rel=0.02)
    share_over = sum(guard.over(ms, cutoffs.baseline_bucket) for ms in latencies) / 1_000
    assert 0.03 < share_over < 0.07
    assert not guard.over(1_100.0, cutoffs.candidate_bucket)
    assert guard.over(1_300.0, cutoffs.candidate_bucket)
    same = guard.latency_cutoffs(sketch.items(), 0.0, T0)
    assert same is not None and same.candidate_bucket == same.baseline_bucket
    assert guard.latency_cutoffs([], 200.0, T0) is None


def test_a_candidate_slower_past_its_threshold_is_judged_worse() -> None:
    steps = [StepArms(ArmSums(tail_n=5_000, tail_over=250), ArmSums(tail_n=1_000, tail_over=200))]
    j = guard.judge("latency_p95", 200.0, steps, alpha=0.05, min_outcomes=200, first_share=0.2)
    assert j.verdict == "worse"
    assert j.low is not None and j.low > 0
    assert "slower than allowed" in guard.describe(j, 200, 0.95)
    fine = [StepArms(ArmSums(tail_n=5_000, tail_over=250), ArmSums(tail_n=1_000, tail_over=40))]
    assert (
        guard.judge(
            "latency_p95", 200.0, fine, alpha=0.05, min_outcomes=200, first_share=0.2
        ).verdict
        == "within"
    )


def test_an_equal_candidate_checked_after_every_batch_is_rarely_rolled_back() -> None:
    """200 seeded A/A runs, 100 looks each: a fixed-sample test would roll back more than a
    quarter of them; the confidence sequence stays under its 5%."""
    rng = random.Random(24)
    guarded = naive = 0
    fixed = stats.norm.ppf(0.95)
    for _ in range(200):
        k_b = k_c = n = 0
        flagged_guard = flagged_naive = False
        for _ in range(100):
            n += 50
            k_b += sum(rng.random() < 0.9 for _ in range(50))
            k_c += sum(rng.random() < 0.9 for _ in range(50))
            j = guard.judge(
                "success_rate",
                0.0,
                [rates(n, k_b, n, k_c)],
                alpha=0.05,
                min_outcomes=200,
                first_share=0.5,
            )
            flagged_guard |= j.verdict == "worse"
            p_b, p_c = k_b / n, k_c / n
            se = math.sqrt((p_b * (1 - p_b) + p_c * (1 - p_c)) / n)
            flagged_naive |= n >= 200 and (p_c - p_b) / se < -fixed
        guarded += flagged_guard
        naive += flagged_naive
    assert guarded <= 10  # 5% of 200
    assert naive > 20  # looking again and again inflates a fixed-sample test past 10%


def test_latency_thresholds_are_due_once_the_baseline_has_its_minimum_and_only_once() -> None:
    body = {
        "version_id": 2,
        "steps": [10, 100],
        "guard": {
            "measure": ["success_rate", "latency_p95"],
            "max_drop": 0.02,
            "max_increase_ms": 100,
        },
    }
    running = sm.start(parse_plan(body), 1, T0, "salt").state
    assert not guard.latency_due(running, 199)
    assert guard.latency_due(running, 200)
    frozen = sm.freeze_cutoffs(running, sm.LatencyCutoffs(10, 12, 400.0, T0))
    assert not guard.latency_due(frozen, 10_000)
    body["guard"] = {"measure": "success_rate", "max_drop": 0.02}
    assert not guard.latency_due(sm.start(parse_plan(body), 1, T0, "salt").state, 10_000)


@st.composite
def arm_sums(draw: st.DrawFn) -> ArmSums:
    n = draw(st.integers(0, 10**7))
    scores = draw(st.lists(st.floats(-1e6, 1e6), max_size=5))
    score_n = len(scores) * draw(st.integers(0, 10**5))
    repeat = score_n // len(scores) if scores else 0
    tail_n = draw(st.integers(0, n))
    return ArmSums(
        count=n,
        success_n=n,
        success_true=draw(st.integers(0, n)),
        score_n=score_n,
        score_sum=sum(scores) * repeat,
        score_sq=sum(x * x for x in scores) * repeat,
        tail_n=tail_n,
        tail_over=draw(st.integers(0, tail_n)),
    )


@settings(max_examples=400, deadline=None)
@given(
    steps=st.lists(st.builds(StepArms, arm_sums(), arm_sums()), min_size=1, max_size=4),
    measure=st.sampled_from(["success_rate", "mean_score", "latency_p95"]),
    margin=st.floats(0, 1),
    alpha=st.floats(0.0005, 0.5),
    share=st.floats(0.0001, 0.9999),
)
def test_any_sums_get_a_verdict_with_the_estimate_inside_its_interval(
    steps: list[StepArms], measure: Measure, margin: float, alpha: float, share: float
) -> None:
    j = guard.judge(measure, margin, steps, alpha=alpha, min_outcomes=30, first_share=share)
    assert j.verdict in ("pending", "within", "worse")
    if j.verdict != "pending":
        assert j.low is not None and j.high is not None and j.difference is not None
        assert math.isfinite(j.low) and math.isfinite(j.high)
        assert j.low <= j.difference + 1e-9 and j.difference <= j.high + 1e-9


def test_latency_waits_for_its_frozen_threshold_and_says_so() -> None:
    j = guard.judge("latency_p95", 100.0, [], alpha=0.05, min_outcomes=200, first_share=0.1)
    assert j.verdict == "pending"
    assert "since the baseline's p95 was frozen" in guard.describe(j, 200, 0.95)
