"""The render conformance fixtures (conformance/render/): every case through
``domain/templates.render`` and the contract's checks gives exactly the expected text,
messages or error. The Python client renders with the same code; the TypeScript client runs
the same files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptdeck.domain import templates
from promptdeck.domain.contracts import check_contract, check_variables
from promptdeck.errors import PromptdeckError

FIXTURES = Path(__file__).resolve().parents[2] / "conformance" / "render"
CASE_KEYS = {
    "name",
    "kind",
    "template_format",
    "content",
    "messages",
    "contract",
    "variables",
    "expect",
}


def _cases() -> list[Any]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            out.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return out


CASES = _cases()


def outcome(case: dict[str, Any]) -> dict[str, Any]:
    """What a client does with a case: the contract checked whole, the variables checked
    against it, then the render."""
    kind, template_format = case["kind"], case["template_format"]
    try:
        if kind == "chat":
            content = templates.encode_messages(templates.check_messages(case["messages"]))
        else:
            content = case["content"]
        if "contract" in case:
            check_variables(check_contract(case["contract"]), case["variables"])
        rendered = templates.render(kind, template_format, content, case["variables"])
    except PromptdeckError as exc:
        error: dict[str, Any] = {"code": exc.code}
        listed = exc.extra.get("errors")
        if listed:
            error["paths"] = [e["path"] for e in listed]
            error["errors"] = [f"{e['path']}: {e['message']}" for e in listed]
        elif exc.code == "contract-invalid":
            error["paths"] = [exc.field]
        if exc.code == "missing-variables":
            error["detail"] = exc.detail
        return {"error": error}
    if kind == "chat":
        return {"messages": rendered.messages}
    return {"text": rendered.text}


@pytest.mark.parametrize("case", CASES)
def test_every_case_renders_or_fails_exactly_as_expected(case: dict[str, Any]) -> None:
    got = outcome(case)
    expected = case["expect"]
    if "error" in expected:
        assert "error" in got, got
        for key, value in expected["error"].items():
            assert got["error"].get(key) == value, key
    else:
        assert got == expected


def test_the_fixtures_are_well_formed_and_cover_what_the_readme_promises() -> None:
    names: set[str] = set()
    kinds, formats, codes = set(), set(), set()
    for param in CASES:
        case = param.values[0]
        assert set(case) <= CASE_KEYS, case["name"]
        assert ("content" in case) == (case["kind"] == "text"), case["name"]
        assert case["name"] not in names, case["name"]
        names.add(case["name"])
        kinds.add(case["kind"])
        formats.add(case["template_format"])
        if "error" in case["expect"]:
            codes.add(case["expect"]["error"]["code"])
    assert kinds == {"text", "chat"}
    assert formats == {"plain", "jinja"}
    assert {
        "missing-variables",
        "template-invalid",
        "variables-invalid",
        "contract-invalid",
    } <= codes
    assert len(CASES) >= 100
