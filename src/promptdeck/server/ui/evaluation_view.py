"""What the evaluation pages show, formatted (rates as percentages, intervals, p-values,
versions by their number): the templates only lay it out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from promptdeck.domain.evaluations import Evaluation, Item, evaluator_names

OUTPUT_SHOWN = 400  # characters of an answer in the items table (the API has it whole)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, fmt: str = "{:.3g}") -> str:
    return "-" if value is None else fmt.format(value)


def _interval(data: Mapping[str, Any] | None, pct: bool = True) -> dict[str, str]:
    data = data or {}
    show = _pct if pct else _num
    low, high = data.get("low"), data.get("high")
    return {
        "value": show(data.get("value")),
        "range": "" if low is None or high is None else f"{show(low)} to {show(high)}",
    }


def version_label(version_id: int, numbers: Mapping[int, int]) -> str:
    number = numbers.get(version_id)
    return f"#{number}" if number is not None else f"id {version_id}"


def names(found: Evaluation) -> list[str]:
    return evaluator_names(found.evaluators)


def row(found: Evaluation, numbers: Mapping[int, int]) -> dict[str, Any]:
    """An evaluation as a list row and as the head of its page."""
    p = found.progress
    versions = [version_label(v, numbers) for v in found.version_ids]
    return {
        "id": found.id,
        "prompt": found.prompt_name,
        "status": found.status,
        "versions": " → ".join(versions),
        "version_ids": list(zip(found.version_ids, versions, strict=True)),
        "test_set": found.test_set,
        "test_set_version": found.test_set_version,
        "evaluators": [json_line(e) for e in found.evaluators],
        "provider": found.provider,
        "model": found.model,
        "done": p.done + p.reports_done,
        "total": p.total + p.reports_total,
        "failed": p.failed,
        "fraction": p.fraction,
        "percent": f"{p.fraction:.0%}",
        "verdict": found.verdict,
        "reason": (found.comparison or {}).get("reason", ""),
        "error": found.error,
        "created_at": found.created_at,
        "created_by": found.created_by,
        "finished_at": found.finished_at,
        "cancelled_by": found.cancelled_by,
    }


def json_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def summaries(found: Evaluation, numbers: Mapping[int, int]) -> list[dict[str, Any]]:
    """Each version's summary: per evaluator the pass rate with its 95% interval and the mean
    score; the call figures."""
    shown = []
    for s in found.summaries or ():
        evaluators = [
            {
                "name": e["name"],
                "passed": e["passed"],
                "n": e["n"],
                "errors": e["errors"],
                "rate": _interval(e.get("pass_rate")),
                "score": _interval(e.get("mean_score"), pct=False),
            }
            for e in s.get("evaluators", ())
        ]
        shown.append(
            {
                "version": version_label(int(s["version_id"]), numbers),
                "version_id": s["version_id"],
                "cases": s.get("cases", 0),
                "failed_calls": s.get("failed_calls", 0),
                "evaluators": evaluators,
                "p50": _num(s.get("latency_p50_ms"), "{:,.0f} ms"),
                "p95": _num(s.get("latency_p95_ms"), "{:,.0f} ms"),
                "tokens": f"{s.get('prompt_tokens', 0):,} in, "
                f"{s.get('completion_tokens', 0):,} out",
                "cost": _num(s.get("cost"), "{:.4g}"),
            }
        )
    return shown


def comparison(found: Evaluation, numbers: Mapping[int, int]) -> dict[str, Any] | None:
    """The candidate against the baseline, each test as a row of impact's verdict table."""
    c = found.comparison
    if not c:
        return None
    rows = []
    for t in c.get("comparisons", ()):
        pct = t.get("measure") == "pass_rate"
        show = _pct if pct else _num
        rows.append(
            {
                "evaluator": t.get("evaluator", ""),
                "measure": str(t.get("measure", "")).replace("_", " "),
                "a": show(t.get("a")),
                "b": show(t.get("b")),
                "pairs": t.get("pairs", 0),
                "discordant": f"{t.get('a_only', 0)} / {t.get('b_only', 0)}" if pct else "",
                "verdict": t.get("verdict", "inconclusive"),
                "test": str(t.get("test", "")).replace("_", " "),
                "p": _num(t.get("p_value")),
                "p_adjusted": _num(t.get("p_adjusted")),
            }
        )
    return {
        "baseline": version_label(int(c["baseline"]), numbers),
        "candidate": version_label(int(c["candidate"]), numbers),
        "verdict": c.get("verdict", found.verdict),
        "reason": c.get("reason", ""),
        "cases": c.get("cases", 0),
        "rows": rows,
    }


def item(found: Item, numbers: Mapping[int, int]) -> dict[str, Any]:
    output = found.output or ""
    return {
        "id": found.id,
        "position": found.position,
        "version": version_label(found.version_id, numbers),
        "status": found.status,
        "variables": json_line(found.variables),
        "output": output[:OUTPUT_SHOWN] + ("…" if len(output) > OUTPUT_SHOWN else ""),
        "tool_calls": [t.name for t in found.tool_calls],
        "error": found.error,
        "latency": _num(found.latency_ms, "{:,.0f} ms"),
        "results": {
            r.evaluator: {
                "passed": r.passed,
                "error": r.error,
                "reason": r.reason,
                "score": _num(r.score),
            }
            for r in found.results
        },
    }
