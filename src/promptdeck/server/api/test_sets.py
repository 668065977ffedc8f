"""/test-sets: named, versioned collections of cases for a prompt (docs/evaluations.md).
Creating and adding need the write role; reading, the read role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from promptdeck import limits
from promptdeck.core.evaluating import Evaluations
from promptdeck.domain.test_sets import CaseSet, StoredCase
from promptdeck.schemas import (
    CasesAdd,
    Page,
    TestCaseOut,
    TestSetCreate,
    TestSetOut,
    TestSetVersionOut,
)
from promptdeck.server.api.prompts import Cursor, Limit
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingWriter, Reader


def get_evaluations(request: Request) -> Evaluations:
    found: Evaluations = request.app.state.evaluations
    return found


EvaluationsDep = Annotated[Evaluations, Depends(get_evaluations)]

router = APIRouter(prefix="/test-sets", tags=["test sets"], responses=responses(400, 413, 422))

SetName = Annotated[
    str, Path(min_length=1, max_length=limits.TEST_SET_NAME_MAX, description="The set's name.")
]


def test_set_out(found: CaseSet) -> TestSetOut:
    return TestSetOut(
        id=found.id,
        name=found.name,
        prompt_id=found.prompt_id,
        prompt=found.prompt_name,
        description=found.description,
        version=found.version,
        case_count=found.case_count,
        created_at=found.created_at,
        created_by=found.created_by,
        updated_at=found.updated_at,
        versions=[TestSetVersionOut.model_validate(v) for v in found.versions],
    )


def case_out(found: StoredCase) -> TestCaseOut:
    return TestCaseOut(
        id=found.id,
        position=found.position,
        added_in=found.added_in,
        variables=found.case.variables,
        expected=found.case.expected,
        metadata=found.case.metadata,
    )


@router.post(
    "",
    status_code=201,
    response_model=TestSetOut,
    responses=responses(404, 409),
    summary="Create a test set of a prompt with its first cases (version 1)",
)
def create_test_set(
    body: TestSetCreate, evaluations: EvaluationsDep, caller: ActingWriter, response: Response
) -> TestSetOut:
    created = evaluations.create_test_set(
        body.name,
        body.prompt,
        body.to_cases(),
        caller,
        description=body.description,
        version_description=body.version_description,
    )
    response.headers["Location"] = f"/test-sets/{created.name}"
    return test_set_out(created)


@router.get(
    "",
    response_model=Page[TestSetOut],
    responses=responses(404),
    summary="Test sets, oldest first (?prompt= a prompt that is not there: 404)",
)
def list_test_sets(
    evaluations: EvaluationsDep,
    caller: Reader,
    prompt: Annotated[
        str | None,
        Query(min_length=1, max_length=limits.PROMPT_NAME_MAX, description="Only this prompt's."),
    ] = None,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[TestSetOut]:
    page = evaluations.list_test_sets(caller, prompt=prompt, limit=limit, cursor=cursor)
    return Page[TestSetOut](
        items=[test_set_out(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{name}",
    response_model=TestSetOut,
    responses=responses(404),
    summary="A test set with its versions, newest first",
)
def get_test_set(name: SetName, evaluations: EvaluationsDep, caller: Reader) -> TestSetOut:
    return test_set_out(evaluations.get_test_set(name, caller))


@router.post(
    "/{name}/cases",
    status_code=201,
    response_model=TestSetOut,
    responses=responses(404, 409),
    summary="Add cases (a list, or a JSONL or CSV import): the set's next version",
)
def add_cases(
    name: SetName, body: CasesAdd, evaluations: EvaluationsDep, caller: ActingWriter
) -> TestSetOut:
    return test_set_out(
        evaluations.add_cases(name, body.to_cases(), caller, description=body.description)
    )


@router.get(
    "/{name}/cases",
    response_model=Page[TestCaseOut],
    responses=responses(404),
    summary="The cases of a version of the set (default: its newest), in order",
)
def list_cases(
    name: SetName,
    evaluations: EvaluationsDep,
    caller: Reader,
    version: Annotated[int | None, Query(ge=1, le=limits.ID_MAX)] = None,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[TestCaseOut]:
    page = evaluations.list_cases(name, caller, version=version, limit=limit, cursor=cursor)
    return Page[TestCaseOut](items=[case_out(c) for c in page.items], next_cursor=page.next_cursor)
