"""Test sets, evaluations and gates as `Call`s: the AsyncClient's and Client's evaluation
methods send these (docs/evaluations.md)."""

from __future__ import annotations

from typing import Any

from promptdeck.client._http import Call, seg
from promptdeck.client._ops import _list, _model, _none, _params
from promptdeck.schemas import (
    EvaluationItemOut,
    EvaluationOut,
    GateCheckOut,
    GateOut,
    Page,
    ReportOut,
    TestCaseOut,
    TestSetOut,
)


def cases_body(
    cases: list[dict[str, Any]] | None, fmt: str | None, data: str | None
) -> dict[str, Any]:
    """Cases given as a list, or as the text of a JSONL or CSV file."""
    if data is not None:
        return {"import": {"format": fmt or "jsonl", "data": data}}
    return {"cases": cases or []}


def create_test_set(
    name: str,
    prompt: str | int,
    *,
    cases: list[dict[str, Any]] | None,
    fmt: str | None,
    data: str | None,
    description: str | None,
) -> Call[TestSetOut]:
    body = {"name": name, "prompt": str(prompt), **cases_body(cases, fmt, data)}
    body |= _params(description=description)
    return Call("POST", "/test-sets", _model(TestSetOut), json=body, ok=(201,))


def add_cases(
    name: str,
    *,
    cases: list[dict[str, Any]] | None,
    fmt: str | None,
    data: str | None,
    description: str | None,
) -> Call[TestSetOut]:
    body = cases_body(cases, fmt, data) | _params(description=description)
    return Call("POST", f"/test-sets/{seg(name)}/cases", _model(TestSetOut), json=body, ok=(201,))


def list_test_sets(
    *, prompt: str | int | None, limit: int | None, cursor: str | None
) -> Call[Page[TestSetOut]]:
    return Call(
        "GET",
        "/test-sets",
        _model(Page[TestSetOut]),
        params=_params(prompt=None if prompt is None else str(prompt), limit=limit, cursor=cursor),
        retry=True,
    )


def get_test_set(name: str) -> Call[TestSetOut]:
    return Call("GET", f"/test-sets/{seg(name)}", _model(TestSetOut), retry=True)


def list_cases(
    name: str, *, version: int | None, limit: int | None, cursor: str | None
) -> Call[Page[TestCaseOut]]:
    return Call(
        "GET",
        f"/test-sets/{seg(name)}/cases",
        _model(Page[TestCaseOut]),
        params=_params(version=version, limit=limit, cursor=cursor),
        retry=True,
    )


def start_evaluation(
    prompt: str | int, body: dict[str, Any], *, idempotency_key: str | None
) -> Call[EvaluationOut]:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return Call(
        "POST",
        f"/prompts/{seg(prompt)}/evaluations",
        _model(EvaluationOut),
        json=body,
        headers=headers,
        ok=(202,),
        retry=idempotency_key is not None,
    )


def get_evaluation(evaluation_id: int) -> Call[EvaluationOut]:
    return Call("GET", f"/evaluations/{int(evaluation_id)}", _model(EvaluationOut), retry=True)


def list_evaluations(
    prompt: str | int, *, status: str | None, limit: int | None, cursor: str | None
) -> Call[Page[EvaluationOut]]:
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/evaluations",
        _model(Page[EvaluationOut]),
        params=_params(status=status, limit=limit, cursor=cursor),
        retry=True,
    )


def list_items(
    evaluation_id: int,
    *,
    version_id: int | None,
    status: str | None,
    awaiting: bool,
    limit: int | None,
    cursor: str | None,
) -> Call[Page[EvaluationItemOut]]:
    params = _params(version_id=version_id, status=status, limit=limit, cursor=cursor)
    if awaiting:
        params["awaiting"] = "true"
    return Call(
        "GET",
        f"/evaluations/{int(evaluation_id)}/items",
        _model(Page[EvaluationItemOut]),
        params=params,
        retry=True,
    )


def cancel_evaluation(evaluation_id: int) -> Call[EvaluationOut]:
    return Call("POST", f"/evaluations/{int(evaluation_id)}/cancel", _model(EvaluationOut))


def report_results(evaluation_id: int, results: list[dict[str, Any]]) -> Call[ReportOut]:
    # The first result of an item and evaluator counts; a repeat is ignored: safe to retry.
    return Call(
        "POST",
        f"/evaluations/{int(evaluation_id)}/results",
        _model(ReportOut),
        json={"results": results},
        retry=True,
    )


def _gate_path(prompt: str | int, label: str) -> str:
    return f"/prompts/{seg(prompt)}/labels/{seg(label)}/gate"


def set_gate(
    prompt: str | int, label: str, test_set: str, thresholds: dict[str, float]
) -> Call[GateOut]:
    body = {"test_set": test_set, "thresholds": thresholds}
    return Call("PUT", _gate_path(prompt, label), _model(GateOut), json=body, retry=True)


def get_gate(prompt: str | int, label: str) -> Call[GateOut]:
    return Call("GET", _gate_path(prompt, label), _model(GateOut), retry=True)


def remove_gate(prompt: str | int, label: str) -> Call[None]:
    return Call("DELETE", _gate_path(prompt, label), _none, ok=(204,))


def list_gates(prompt: str | int) -> Call[list[GateOut]]:
    return Call("GET", f"/prompts/{seg(prompt)}/gates", _list(GateOut), retry=True)


def check_gate(prompt: str | int, label: str, version_id: int) -> Call[GateCheckOut]:
    return Call(
        "GET",
        _gate_path(prompt, label) + "/check",
        _model(GateCheckOut),
        params={"version_id": int(version_id)},
        retry=True,
    )
