"""The statistics of impact against known data sets: counts and rates exact, intervals and
tests against published values and scipy's reference functions on the raw data."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats

from promptdeck.domain import impact
from promptdeck.domain.impact import Outcome, Sums


def sums_of(outcomes: list[Outcome]) -> Sums:
    total = Sums()
    for o in outcomes:
        total.fold(o)
    return total


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_the_success_rate_interval_is_wilsons_as_published(
    k: int, n: int, low: float, high: float
) -> None:
    found = impact.rate_interval(k, n)
    assert found.value == k / n
    assert found.low == pytest.approx(low, abs=5e-5)
    assert found.high == pytest.approx(high, abs=5e-5)


def test_counts_and_rates_folded_from_outcomes_are_exact() -> None:
    outcomes = [Outcome("p", 1, success=i % 4 != 0, score=(i % 11) / 10) for i in range(1000)]
    outcomes += [Outcome("p", 1, feedback=1), Outcome("p", 1, feedback=-1)]
    total = sums_of(outcomes)
    summary = impact.summarize(total, None, None)
    assert summary.count == 1002
    assert summary.success_n == 1000
    assert summary.success_rate.value == 750 / 1000
    assert summary.score_n == 1000
    assert summary.mean_score.value == pytest.approx(sum((i % 11) / 10 for i in range(1000)) / 1000)
    assert (summary.feedback_up, summary.feedback_down) == (1, 1)


def test_the_mean_score_interval_is_scipys_t_interval_on_the_raw_scores() -> None:
    rng = random.Random(7)
    scores = [rng.betavariate(5, 2) for _ in range(500)]
    found = impact.summarize(sums_of([Outcome("p", 1, score=s) for s in scores]), None, None)
    low, high = stats.t.interval(
        0.95, len(scores) - 1, loc=sum(scores) / 500, scale=stats.sem(scores)
    )
    assert found.mean_score.low == pytest.approx(low, rel=1e-9)
    assert found.mean_score.high == pytest.approx(high, rel=1e-9)


def test_welch_from_sums_matches_scipys_ttest_ind_on_the_raw_scores() -> None:
    rng = random.Random(11)
    a = [min(1.0, max(0.0, rng.gauss(0.80, 0.1))) for _ in range(300)]
    b = [min(1.0, max(0.0, rng.gauss(0.77, 0.15))) for _ in range(200)]
    sa, sb = (sums_of([Outcome("p", 1, score=s) for s in xs]) for xs in (a, b))
    mean_score = impact.compare(sa, sb)[1]
    reference = stats.ttest_ind(a, b, equal_var=False)
    assert mean_score.test == "welch_t"
    assert mean_score.p_value == pytest.approx(reference.pvalue, rel=1e-6)
    assert mean_score.verdict == ("worse" if reference.pvalue < 0.05 else "inconclusive")


def test_two_rates_use_chi_squared_and_say_worse_when_b_fails_more() -> None:
    a = Sums(success_n=1000, success_true=950)
    b = Sums(success_n=1000, success_true=900)
    found = impact.compare(a, b)[0]
    reference = stats.chi2_contingency([[950, 50], [900, 100]], correction=False)
    assert (found.test, found.verdict) == ("chi2_contingency", "worse")
    assert found.p_value == pytest.approx(reference.pvalue)
    assert impact.compare(b, a)[0].verdict == "better"


def test_small_samples_use_fishers_exact_test_and_stay_inconclusive() -> None:
    found = impact.compare(Sums(success_n=6, success_true=5), Sums(success_n=5, success_true=3))[0]
    assert found.test == "fisher_exact"
    assert found.p_value == pytest.approx(stats.fisher_exact([[5, 1], [3, 2]]).pvalue)
    assert found.verdict == "inconclusive"


def test_a_measure_without_data_on_one_side_is_inconclusive_without_a_p_value() -> None:
    found = impact.compare(Sums(success_n=10, success_true=9), Sums())[0]
    assert (found.verdict, found.p_value) == ("inconclusive", None)


def test_lower_latency_is_better() -> None:
    a = sums_of([Outcome("p", 1, latency_ms=400 + i % 50) for i in range(200)])
    b = sums_of([Outcome("p", 1, latency_ms=200 + i % 50) for i in range(200)])
    latency = impact.compare(a, b)[2]
    assert (latency.measure, latency.verdict) == ("mean_latency_ms", "better")


def test_latency_quantiles_are_within_the_sketchs_relative_accuracy_and_merge_by_addition() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(5.5, 0.6) for _ in range(20_000)]
    halves: list[dict[int, int]] = [{}, {}]
    for i, v in enumerate(values):
        bucket = impact.latency_bucket(v)
        halves[i % 2][bucket] = halves[i % 2].get(bucket, 0) + 1
    merged = {b: halves[0].get(b, 0) + halves[1].get(b, 0) for b in halves[0].keys() | halves[1]}
    ordered = sorted(values)
    for q in (0.5, 0.95):
        exact = ordered[math.floor(q * (len(ordered) - 1))]
        found = impact.quantile(merged.items(), q)
        assert found is not None
        assert abs(found - exact) <= 0.01 * exact + 1e-9
    assert impact.quantile([(impact.latency_bucket(0.0), 3)], 0.5) == 0.0
    assert impact.quantile([], 0.5) is None


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (0, 0),
        (59, 60),
        (1, 1438),
        (1439, 2 * 1440 + 61),
        (100_000, 100_000 + 40 * 1440 + 7),
        (7, 7),
    ],
)
def test_segments_cover_every_minute_of_a_range_exactly_once_with_whole_blocks(
    low: int, high: int
) -> None:
    covered: list[int] = []
    for span, first, last in impact.segments(low, high):
        assert first % span == 0 and last % span == 0 and first <= last
        for start in range(first, last + 1, span):
            covered.extend(range(start, start + span))
    assert sorted(covered) == list(range(low, high + 1))
    assert len(impact.segments(low, high)) <= 5


def test_an_open_range_reads_day_blocks_only() -> None:
    assert impact.segments(None, None) == [(1440, 0, impact.MINUTE_MAX - 1439)]


@pytest.mark.parametrize(
    ("k", "n"), [(0, 1), (1, 1), (3, 7), (50, 100), (9_990, 10_000), (12, 300_000)]
)
def test_the_wilson_interval_equals_scipys_binomtest_proportion_ci(k: int, n: int) -> None:
    reference = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    found = impact.rate_interval(k, n)
    assert found.low == pytest.approx(reference.low, abs=1e-12)
    assert found.high == pytest.approx(reference.high, abs=1e-12)
