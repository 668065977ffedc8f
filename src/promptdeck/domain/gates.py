"""The gate of a label (issue 25): a label may require that a candidate version passes a named
test set (a pass rate per evaluator, and no worse than what the label serves now) before a
deploy request moves it or a rollout starts. Pure: the gate's configuration, and the
decision from the evaluation that compared the two versions (core/gates.py finds it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from promptdeck import limits
from promptdeck.domain.evaluation_stats import unmet
from promptdeck.domain.evaluations import COMPLETED, Evaluation, summary_from_json
from promptdeck.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Gate:
    prompt_id: int
    label: str
    test_set_id: int
    test_set: str
    thresholds: dict[str, float]  # evaluator name: least pass rate (0 to 1)
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class GateCheck:
    """Whether ``version_id`` may go to ``label`` now, and why not."""

    label: str
    version_id: int
    required: bool  # the label has a gate
    passed: bool
    test_set: str | None = None
    test_set_version: int | None = None  # the set's newest version: the one that counts
    baseline_id: int | None = None  # what the label serves now
    evaluation_id: int | None = None  # the evaluation the decision read
    verdict: str | None = None  # that evaluation's comparison
    reasons: tuple[str, ...] = ()  # why it does not pass (empty when it does)


def check_thresholds(raw: Any) -> dict[str, float]:
    """``{"contains": 0.9, ...}``: 1 to GATE_THRESHOLDS_MAX evaluator names, each with the
    least pass rate, 0 to 1."""
    if not isinstance(raw, Mapping) or not 0 <= len(raw) <= limits.GATE_THRESHOLDS_MAX:
        raise InvalidInput(
            f"thresholds is an object of at most {limits.GATE_THRESHOLDS_MAX} evaluator names "
            "and pass rates",
            field="thresholds",
        )
    found: dict[str, float] = {}
    for name, rate in raw.items():
        if not isinstance(name, str) or not 0 < len(name) <= 64:
            raise InvalidInput("an evaluator name is 1 to 64 characters", field="thresholds")
        ok = isinstance(rate, int | float) and not isinstance(rate, bool) and 0 <= rate <= 1
        if not ok:
            raise InvalidInput(
                "a threshold is a pass rate from 0 to 1", field=f"thresholds.{name[:64]}"
            )
        found[name] = float(rate)
    return found


def decide(
    gate: Gate | None,
    *,
    label: str,
    version_id: int,
    serving: int | None,
    set_version: int | None,
    evaluation: Evaluation | None,
) -> GateCheck:
    """The gate's decision for moving ``label`` from ``serving`` to ``version_id``, from the
    newest completed evaluation of the pair on the set's newest version (None: there is
    none)."""
    if gate is None:
        return GateCheck(label, version_id, required=False, passed=True)

    def check(
        passed: bool, reasons: Sequence[str] = (), found: Evaluation | None = None
    ) -> GateCheck:
        return GateCheck(
            label,
            version_id,
            required=True,
            passed=passed,
            test_set=gate.test_set,
            test_set_version=set_version,
            baseline_id=serving,
            evaluation_id=None if found is None else found.id,
            verdict=None if found is None else found.verdict,
            reasons=tuple(reasons),
        )

    if serving == version_id:
        return check(True)  # nothing would change
    if evaluation is None or evaluation.status != COMPLETED:
        pair = f"version {version_id}" + (f" against {serving}" if serving is not None else "")
        why = (
            f"no completed evaluation of {pair} on test set {gate.test_set} "
            f"version {set_version}: run one (promptdeck eval run)"
        )
        return check(False, [why])
    reasons: list[str] = []
    summaries = {int(s["version_id"]): s for s in evaluation.summaries or ()}
    candidate = summaries.get(version_id)
    if candidate is None:
        reasons.append(f"evaluation {evaluation.id} has no summary of version {version_id}")
    else:
        reasons += unmet(summary_from_json(candidate), gate.thresholds)
    if serving is not None and evaluation.verdict == "worse":
        why = (evaluation.comparison or {}).get("reason", "")
        reasons.append(f"worse than version {serving}" + (f": {why}" if why else ""))
    return check(not reasons, reasons, evaluation)


def matches(evaluation: Evaluation, version_id: int, serving: int | None) -> bool:
    """Whether the evaluation is the one the gate reads: the candidate against what the label
    serves (baseline first), or the candidate alone when the label serves nothing."""
    if serving is None:
        return version_id in evaluation.version_ids
    return evaluation.version_ids == (serving, version_id)
