"""docs/rollouts.md says what the code does: its worked plan parses, its assignment snippet
gives the published buckets, its bounds and error codes are the code's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from promptdeck import errors, limits
from promptdeck.domain.rollouts import assign
from promptdeck.domain.rollouts.plan import parse_plan
from promptdeck.server.problems import status_of

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

DOC = (Path(__file__).parents[2] / "docs" / "rollouts.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.S)


def worked_plan() -> dict[str, object]:
    """The plan the worked example's curl sends (``-d '…'``)."""
    start = next(b for b in _blocks("sh") if "/rollout" in b and " -d '" in b)
    found: dict[str, object] = json.loads(start.split(" -d '", 1)[1].split("'", 1)[0])
    return found


def test_the_worked_example_plan_is_accepted() -> None:
    plan = parse_plan(worked_plan())
    assert plan.steps == (500, 2500, 5000, 10_000)
    assert plan.reason == "shorter answers"


def test_the_python_snippet_is_the_assignment_the_code_makes() -> None:
    (snippet,) = [b for b in _blocks("python") if "def bucket" in b]
    namespace: dict[str, object] = {}
    exec(snippet, namespace)  # the block asserts its own example
    bucket = namespace["bucket"]
    assert callable(bucket)
    for key in ("", "user-1", "日本語", "\U0001f600" * 10):
        assert bucket("s4lt", key) == assign.bucket("s4lt", key)


def test_the_documented_bounds_are_the_codes() -> None:
    assert f"{limits.ROLLOUT_STEPS_MAX} steps" in DOC
    assert f"at most {limits.ROLLOUT_KEY_MAX_BYTES} bytes" in DOC
    assert f"{limits.ROLLOUT_MIN_OUTCOMES_MIN} to {limits.ROLLOUT_MIN_OUTCOMES_MAX:,}" in DOC
    assert f"{limits.ROLLOUT_CONFIDENCE_MIN} to {limits.ROLLOUT_CONFIDENCE_MAX}" in DOC


def test_the_documented_error_codes_have_the_documented_statuses() -> None:
    rows = dict(re.findall(r"^\| `(rollout-[a-z-]+)` \| (\d{3}) \|", DOC, re.M))
    classes = {e.code: e for e in errors.error_classes().values()}
    assert set(rows) == {c for c in classes if c.startswith("rollout-")}
    for code, status in rows.items():
        assert status_of(classes[code]("x")) == int(status)
