"""The built-in evaluators: each judges as documented, its configuration is checked whole
(naming the field that is wrong), and the judge's answer is read without ever raising."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck.domain.completions import ToolCall
from promptdeck.domain.evaluator_config import build, build_all
from promptdeck.domain.evaluators import (
    Judge,
    Observation,
    Result,
    holds,
    judge_variables,
    parse_judgement,
)
from promptdeck.errors import InvalidInput

pytestmark = pytest.mark.sqlite_only  # no database here: one pass is enough


class TinySchemas:
    """A stand-in for the contracts module's validator: ``type`` and ``required`` only."""

    TYPES: Mapping[str, type | tuple[type, ...]] = {
        "object": dict,
        "string": str,
        "integer": int,
        "array": list,
    }

    def check(self, schema: Mapping[str, Any], field: str) -> None:
        if schema.get("type") not in self.TYPES:
            raise InvalidInput("not a schema this validator knows", field=field)

    def errors(self, schema: Mapping[str, Any], instance: Any) -> Sequence[str]:
        if not isinstance(instance, self.TYPES[schema["type"]]):
            return [f"is not of type {schema['type']}"]
        return [f"{k} is required" for k in schema.get("required", []) if k not in instance]


def judge(config: dict[str, Any], output: str, **seen: Any) -> Result:
    return build(config, validator=TinySchemas()).evaluate(Observation(output, **seen))


@pytest.mark.parametrize(
    ("config", "output", "passed"),
    [
        ({"type": "equals", "value": "Paris"}, "Paris", True),
        ({"type": "equals", "value": "Paris"}, "paris", False),
        ({"type": "equals", "value": "Paris", "ignore_case": True}, "PARIS", True),
        ({"type": "equals", "value": "a b", "ignore_whitespace": True}, "  a \n b ", True),
        ({"type": "equals", "value": {"a": [1, 2]}}, '{"a": [1, 2]}', True),
        ({"type": "equals", "value": {"a": [1, 2]}}, '{"a": [2, 1]}', False),
        ({"type": "contains", "value": "refund"}, "We will refund you", True),
        ({"type": "contains", "values": ["refund", "sorry"]}, "a refund", True),
        ({"type": "contains", "values": ["refund", "sorry"], "mode": "all"}, "a refund", False),
        ({"type": "contains", "values": ["Refund"], "ignore_case": True}, "refund", True),
        ({"type": "regex", "pattern": r"order #\d{4}"}, "your order #1234 is late", True),
        ({"type": "regex", "pattern": r"\d{4}", "full": True}, "a 1234", False),
        ({"type": "regex", "pattern": "HELLO", "ignore_case": True}, "hello", True),
        ({"type": "valid_json"}, '{"ok": true}', True),
        ({"type": "valid_json"}, "```json\n{}\n```", False),
        ({"type": "valid_json", "fenced_ok": True}, "```json\n{}\n```", True),
        ({"type": "length", "min": 3, "max": 5}, "abcd", True),
        ({"type": "length", "max": 3}, "abcd", False),
        ({"type": "length", "min": 5}, "abcd", False),
        (
            {"type": "json_schema", "schema": {"type": "object", "required": ["answer"]}},
            '{"answer": 1}',
            True,
        ),
        (
            {"type": "json_schema", "schema": {"type": "object", "required": ["answer"]}},
            '{"other": 1}',
            False,
        ),
        ({"type": "json_schema", "schema": {"type": "object"}}, "not json", False),
    ],
)
def test_each_deterministic_evaluator_judges_as_documented(
    config: dict[str, Any], output: str, passed: bool
) -> None:
    result = judge(config, output)
    assert result.passed is passed and not result.error
    assert result.reason


def test_equals_without_a_value_compares_with_the_cases_expected() -> None:
    assert judge({"type": "equals"}, "42", expected="42").passed
    assert judge({"type": "equals"}, "[1]", expected=[1]).passed
    assert judge({"type": "equals"}, "no", expected=None).error


def test_contains_scores_the_share_of_values_found() -> None:
    found = judge({"type": "contains", "values": ["a", "b", "c", "d"], "mode": "all"}, "a c")
    assert (found.passed, found.score) == (False, 0.5)
    assert found.reason == "missing 'b'"


def test_a_tool_call_matches_by_name_and_partial_arguments_or_schema() -> None:
    calls = (
        ToolCall("1", "lookup", '{"q": "x"}'),
        ToolCall("2", "refund", '{"order": 42, "reason": "late", "extra": {"a": 1, "b": 2}}'),
    )
    seen = {"tool_calls": calls}
    config: dict[str, Any] = {"type": "tool_called", "tool": "refund"}
    assert judge(config, "", **seen).passed
    assert judge({**config, "arguments": {"order": 42, "extra": {"a": 1}}}, "", **seen).passed
    assert not judge({**config, "arguments": {"order": 43}}, "", **seen).passed
    assert not judge({**config, "arguments": {"order": "42"}}, "", **seen).passed
    schema = {"type": "object", "required": ["order", "reason"]}
    assert judge({**config, "schema": schema}, "", **seen).passed
    strict = {"type": "object", "required": ["missing"]}
    assert not judge({**config, "schema": strict}, "", **seen).passed
    none = judge({"type": "tool_called", "tool": "escalate"}, "", **seen)
    assert not none.passed and none.reason == "escalate was not called (lookup, refund was)"


def test_partial_matching_tells_true_from_1_and_keeps_list_order() -> None:
    assert holds({"a": 1, "b": [1, 2]}, {"b": [1, 2]})
    assert not holds({"a": True}, {"a": 1})
    assert not holds({"a": 1}, {"a": True})
    assert not holds({"b": [2, 1]}, {"b": [1, 2]})
    assert not holds([1], {"a": 1})


def test_latency_is_judged_against_its_bound_and_is_an_error_when_unmeasured() -> None:
    assert judge({"type": "latency", "max_ms": 200}, "", latency_ms=150).passed
    assert not judge({"type": "latency", "max_ms": 200}, "", latency_ms=250).passed
    assert judge({"type": "latency", "max_ms": 200}, "").error


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"type": "nope"}, "e.type"),
        ("contains", "e"),
        ({"type": "contains"}, "e.value"),
        ({"type": "contains", "value": ""}, "e.value"),
        ({"type": "contains", "values": ["x"] * 101}, "e.value"),
        ({"type": "contains", "value": "x", "mode": "some"}, "e.mode"),
        ({"type": "contains", "value": "x", "vlaue": "y"}, "e.vlaue"),
        ({"type": "equals", "value": "x", "ignore_case": "yes"}, "e.ignore_case"),
        ({"type": "regex", "pattern": r"(a)\1"}, "e.pattern"),
        ({"type": "regex", "pattern": "(?=a)b"}, "e.pattern"),
        ({"type": "regex", "pattern": "x" * 1001}, "e.pattern"),
        ({"type": "regex", "pattern": "(\\w{1000}){1000}"}, "e.pattern"),
        ({"type": "length"}, "e.max"),
        ({"type": "length", "min": 5, "max": 3}, "e.min"),
        ({"type": "length", "max": 2.5}, "e.max"),
        ({"type": "length", "max": -1}, "e.max"),
        ({"type": "latency", "max_ms": float("nan")}, "e.max_ms"),
        ({"type": "latency"}, "e.max_ms"),
        ({"type": "json_schema"}, "e.schema"),
        ({"type": "json_schema", "schema": {"type": "banana"}}, "e.schema"),
        ({"type": "tool_called"}, "e.tool"),
        ({"type": "tool_called", "tool": "t", "arguments": [1]}, "e.arguments"),
        ({"type": "judge"}, "e.prompt"),
        ({"type": "judge", "prompt": "rubric", "version": 2, "label": "x"}, "e.label"),
        ({"type": "judge", "prompt": "rubric", "threshold": 2}, "e.threshold"),
    ],
)
def test_a_bad_configuration_is_refused_naming_its_field(config: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        build(config, where="e", validator=TinySchemas())
    assert refused.value.field == field


def test_a_list_of_evaluators_is_bounded_and_names_each_once() -> None:
    found = build_all([{"type": "valid_json"}, {"type": "contains", "value": "x", "name": "x"}])
    assert [e.name for e in found] == ["valid_json", "x"]
    with pytest.raises(InvalidInput) as twice:
        build_all([{"type": "valid_json"}, {"type": "valid_json"}])
    assert twice.value.field == "evaluators[1].name"
    with pytest.raises(InvalidInput):
        build_all([])
    with pytest.raises(InvalidInput):
        build_all([{"type": "valid_json", "name": f"v{i}"} for i in range(21)])


def test_a_pathological_pattern_is_answered() -> None:
    """RE2 is linear in the text: on this pattern and text a backtracking engine (Python's
    re) takes on the order of 2^5000 steps and this test would never end."""
    evaluator = build({"type": "regex", "pattern": "(a|aa)+$"})
    assert not evaluator.evaluate(Observation("a" * 5000 + "b")).passed
    assert evaluator.evaluate(Observation("a" * 5000)).passed


@pytest.mark.parametrize(
    ("answer", "passed", "score"),
    [
        ('{"score": 0.8, "pass": true, "reason": "polite"}', True, 0.8),
        ('{"score": 0.3, "reason": "curt"}', False, 0.3),
        ('{"score": 0.5}', True, 0.5),
        ('{"pass": false, "reason": "wrong"}', False, None),
        ('```json\n{"score": 1, "pass": true, "reason": "ok"}\n```', True, 1.0),
        ('  ```\n{"score": 0.9}\n```  ', True, 0.9),
    ],
)
def test_a_judges_answer_is_read_with_or_without_a_fence(
    answer: str, passed: bool, score: float | None
) -> None:
    result = parse_judgement(answer, threshold=0.5)
    assert (result.passed, result.score, result.error) == (passed, score, False)


@pytest.mark.parametrize(
    "answer",
    [
        "I think it is fine.",
        "[0.5]",
        '{"score": 1.5}',
        '{"score": "high"}',
        '{"score": true}',
        '{"pass": "yes"}',
        '{"reason": "no verdict"}',
        '{"score": NaN}',
        "",
    ],
)
def test_an_unreadable_judgement_is_an_error_result(answer: str) -> None:
    result = parse_judgement(answer)
    assert result.error and not result.passed


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_no_judges_answer_makes_the_reading_raise(answer: str) -> None:
    assert isinstance(parse_judgement(answer), Result)


def test_a_rubric_prompt_gets_input_output_expected_and_metadata_as_text() -> None:
    found = judge_variables(
        input_text="Say hi", output="Hi!", expected={"tone": "warm"}, metadata={"case": 3}
    )
    assert found == {
        "input": "Say hi",
        "output": "Hi!",
        "expected": '{"tone": "warm"}',
        "metadata": '{"case": 3}',
    }
    config = {"type": "judge", "prompt": "rubric", "label": "production", "threshold": 0.7}
    assert build(config) == Judge("judge", "rubric", None, "production", None, None, 0.7)
