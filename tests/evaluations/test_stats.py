"""The statistics of an evaluation against textbook values: McNemar's exact test, the
Wilcoxon signed-rank test (Hollander and Wolfe's example), Holm's correction, Wilson
intervals, percentiles; and the verdicts two versions get on the same cases."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest

from promptdeck.domain.completions import Usage
from promptdeck.domain.evaluation_stats import (
    CaseRun,
    compare,
    compare_scores,
    holm,
    mcnemar_exact,
    percentile,
    signed_rank_sum,
    summarize,
    unmet,
    wilcoxon_p,
)
from promptdeck.domain.evaluators import Result

pytestmark = pytest.mark.sqlite_only  # no database here: one pass is enough


def exact_two_sided(k: int, n: int) -> float:
    """2 P(X <= k), X ~ Binomial(n, 1/2), for k < n/2: the exact McNemar p by hand."""
    return float(2 * sum(Fraction(comb(n, i), 2**n) for i in range(k + 1)))


@pytest.mark.parametrize(
    ("a_only", "b_only", "p"),
    [
        (1, 9, 22 / 1024),  # 2 (1 + 10) / 2^10
        (9, 1, 22 / 1024),
        (2, 12, 212 / 16384),  # 2 (1 + 14 + 91) / 2^14
        (0, 5, 2 / 32),
        (3, 3, 1.0),
        (0, 0, 1.0),
        (4, 16, exact_two_sided(4, 20)),
    ],
)
def test_mcnemars_exact_test_is_the_binomial_on_the_discordant_cases(
    a_only: int, b_only: int, p: float
) -> None:
    assert mcnemar_exact(a_only, b_only) == pytest.approx(p, rel=1e-12)


def test_the_wilcoxon_test_gives_hollander_and_wolfes_textbook_answer() -> None:
    """Hollander & Wolfe (1999), example 3.1 (also R's wilcox.test example): the signed-rank
    statistic V = 40 of 45, exact one-sided p = 0.01953, so two-sided 0.0390625."""
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    diffs = [b - a for a, b in zip(y, x, strict=True)]
    assert wilcoxon_p(diffs) == pytest.approx(0.0390625)
    assert signed_rank_sum(diffs) == 40 - 5  # V+ = 40, V- = 5
    found = compare_scores("judge", list(zip(y, x, strict=True)))
    assert (found.test, found.verdict) == ("wilcoxon", "better")
    assert compare_scores("judge", list(zip(x, y, strict=True))).verdict == "worse"


def test_scores_that_never_differ_are_inconclusive_not_an_error() -> None:
    assert wilcoxon_p([0.0, 0.0, 0.0]) == 1.0
    assert compare_scores("s", [(0.5, 0.5)] * 10).verdict == "inconclusive"
    assert compare_scores("s", [(0.5, 0.9)]).test == "none"


def test_holms_correction_as_worked_by_hand() -> None:
    # sorted: 0.005 x4 = 0.02; 0.01 x3 = 0.03; 0.03 x2 = 0.06; 0.04 x1, kept at 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # 0.5 x2 = 1; then never below it


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5.5
    assert percentile(values, 95) == pytest.approx(9.55)
    assert percentile([], 50) is None


def run(case: int, passed: bool | None, score: float | None = None, **call: object) -> CaseRun:
    result = Result(False, None, "", error=True) if passed is None else Result(passed, score)
    return CaseRun(case, {"contains": result}, **call)  # type: ignore[arg-type]


def test_a_version_summary_counts_passes_errors_latency_tokens_and_cost() -> None:
    runs = [
        run(i, i < 81, latency_ms=float(i), usage=Usage(10, 5, 15), cost=0.001) for i in range(263)
    ]
    runs.append(run(263, None))  # an evaluator error
    runs.append(CaseRun(264, {}, failed=True))  # the call failed
    found = summarize(runs, ["contains"])
    (summary,) = found.evaluators
    assert (summary.n, summary.passed, summary.errors) == (263, 81, 2)
    # Newcombe (1998), table I: 81 of 263, Wilson 95% interval 0.2553 to 0.3662.
    assert summary.pass_rate.low == pytest.approx(0.2553, abs=5e-5)
    assert summary.pass_rate.high == pytest.approx(0.3662, abs=5e-5)
    assert (found.cases, found.failed_calls) == (265, 1)
    assert found.latency_p50_ms == 131.0  # 0.5 x 262, in 0..262
    assert found.latency_p95_ms == pytest.approx(248.9)  # 0.95 x 262
    assert (found.prompt_tokens, found.completion_tokens) == (2630, 1315)
    assert found.cost == pytest.approx(0.263)
    assert summarize([run(1, True)], ["contains"]).cost is None


def test_a_candidate_that_fails_cases_the_baseline_passed_is_worse() -> None:
    baseline = [run(i, True) for i in range(40)]
    candidate = [run(i, i >= 12) for i in range(40)]  # 12 newly failed, none newly passed
    found = compare(baseline, candidate, ["contains"])
    (passes,) = found.comparisons
    assert (passes.a_only, passes.b_only, passes.pairs) == (12, 0, 40)
    assert passes.p_value == pytest.approx(2 / 2**12)
    assert found.verdict == "worse" and "contains" in found.reason
    assert compare(candidate, baseline, ["contains"]).verdict == "better"


def test_equal_versions_and_few_discordant_cases_are_inconclusive() -> None:
    same = [run(i, i % 3 == 0) for i in range(30)]
    assert compare(same, same, ["contains"]).verdict == "inconclusive"
    a = [run(i, i != 0) for i in range(30)]
    b = [run(i, i not in (1, 2)) for i in range(30)]  # discordant 1 vs 2: no evidence
    assert compare(a, b, ["contains"]).verdict == "inconclusive"


def test_only_cases_both_versions_judged_are_paired() -> None:
    a = [run(i, True) for i in range(20)] + [run(99, True)]
    b = [run(i, None) if i < 6 else run(i, True) for i in range(20)]  # 6 errors; no 99
    found = compare(a, b, ["contains"])
    assert found.cases == 20 and found.errors == {"contains": 6}
    assert found.comparisons[0].pairs == 14 and found.verdict == "inconclusive"


def test_more_evaluators_do_not_make_a_false_alarm_more_likely() -> None:
    """One borderline evaluator (p = 0.031 alone) among three is not enough after Holm."""
    names = ["a", "b", "c"]

    def case(i: int, a_pass: bool) -> CaseRun:
        return CaseRun(i, {"a": Result(a_pass), "b": Result(True), "c": Result(True)})

    baseline = [case(i, True) for i in range(30)]
    candidate = [case(i, i >= 5) for i in range(30)]  # 5 to 0 on "a"
    found = compare(baseline, candidate, names)
    first = found.comparisons[0]
    assert first.p_value == pytest.approx(1 / 16)  # 2 / 2^5: not below 0.05 even alone
    candidate = [case(i, i >= 6) for i in range(30)]  # 6 to 0: p = 1/32 alone
    found = compare(baseline, candidate, names)
    first = found.comparisons[0]
    assert first.p_value == pytest.approx(1 / 32)
    assert first.p_adjusted == pytest.approx(3 / 32)
    assert found.verdict == "inconclusive"


def test_scores_beyond_pass_and_fail_are_compared_too() -> None:
    a = [CaseRun(i, {"judge": Result(True, 0.9)}) for i in range(20)]
    b = [CaseRun(i, {"judge": Result(True, 0.6 + 0.01 * i)}) for i in range(20)]
    found = compare(a, b, ["judge"])
    measures = [(c.measure, c.verdict) for c in found.comparisons]
    assert measures == [("pass_rate", "inconclusive"), ("score", "worse")]
    # The overall verdict is the pass/fail one: every case still passes.
    assert found.verdict == "inconclusive"


def test_a_threshold_names_the_evaluators_under_it() -> None:
    summary = summarize([run(i, i < 8) for i in range(10)], ["contains"])
    assert unmet(summary, {"contains": 0.8}) == []
    assert unmet(summary, {"contains": 0.9}) == ["contains: 0.80 < 0.90"]
    assert unmet(summary, {"missing": 0.5}) == ["missing: no cases judged < 0.50"]
