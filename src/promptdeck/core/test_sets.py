"""Test sets (issue 25): named, versioned collections of cases for one prompt. Creating a set
makes its version 1; adding cases makes the next version (the set's row is locked, its
counter moved). Cases are checked against the prompt's contract when it has one: the
variables schema of the version its ``active`` label serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promptdeck import limits
from promptdeck.core import load
from promptdeck.core.tx import Tx
from promptdeck.domain import rules
from promptdeck.domain.contracts import check_variables
from promptdeck.domain.models import Page
from promptdeck.domain.refs import PromptRef
from promptdeck.domain.test_sets import NAME_RE, Case, CaseSet, StoredCase
from promptdeck.errors import (
    InvalidInput,
    PromptNotFound,
    TestSetFull,
    TestSetNameTaken,
    TestSetNotFound,
    VariablesInvalid,
)
from promptdeck.store import test_sets as store
from promptdeck.store.records import PromptRow

VERSIONS_SHOWN = 100  # a set's versions in its answer, newest first


def contract_of(tx: Tx, row: PromptRow) -> Any:
    """The contract cases are checked against: the active version's (None without one).
    ``Version.contract`` exists once contracts are wired into versions (issue 23)."""
    if row.active_version_id is None:
        return None
    return getattr(load.version(tx, row.id, row.active_version_id), "contract", None)


def check_against(contract: Any, cases: Sequence[Case], where: str = "cases") -> None:
    """Every case's variables against the contract: the first case that fails is refused,
    its failing paths named under it (``cases[3].variables.customer.age``)."""
    if contract is None:
        return
    for i, case in enumerate(cases):
        try:
            check_variables(contract, case.variables)
        except VariablesInvalid as exc:
            errors = [
                {**e, "path": f"{where}[{i}].{e['path']}"} for e in exc.extra.get("errors", [])
            ]
            raise VariablesInvalid(
                f"{where}[{i}]: {exc.detail}",
                field=f"{where}[{i}].{exc.field or 'variables'}",
                errors=errors,
            ) from None


def create(
    tx: Tx,
    name: str,
    prompt: PromptRef,
    cases: Sequence[Case],
    *,
    description: str = "",
    version_description: str = "",
) -> CaseSet:
    try:
        row = load.prompt_row(tx, prompt)
    except PromptNotFound as exc:
        raise PromptNotFound(exc.detail, field="prompt") from None
    check_against(contract_of(tx, row), cases)
    if store.find(tx.conn, name=name) is not None:
        raise TestSetNameTaken(f"a test set is already named {name!r}", field="name")
    _check_room(0, cases)
    now = tx.clock()
    set_id = store.insert_set(
        tx.conn,
        {
            "name": name,
            "prompt_id": row.id,
            "description": description,
            "version": 0,
            "case_count": 0,
            "created_at": now,
            "created_by": tx.actor,
            "updated_at": now,
        },
    )
    store.add_version(
        tx.conn,
        set_id,
        number=1,
        first_position=1,
        cases=cases,
        description=version_description,
        actor=tx.actor,
        now=now,
    )
    return get(tx, name)


def add(tx: Tx, name: str, cases: Sequence[Case], *, description: str = "") -> CaseSet:
    """The set's next version: its cases and these."""
    found = _find(tx, name, for_update=True)
    check_against(contract_of(tx, load.prompt_row(tx, PromptRef(id=found.prompt_id))), cases)
    _check_room(found.case_count, cases)
    store.add_version(
        tx.conn,
        found.id,
        number=found.version + 1,
        first_position=found.case_count + 1,
        cases=cases,
        description=description,
        actor=tx.actor,
        now=tx.clock(),
    )
    return get(tx, name)


def _check_room(have: int, cases: Sequence[Case]) -> None:
    if have + len(cases) > limits.TEST_SET_CASES_MAX:
        raise TestSetFull(
            f"a test set holds at most {limits.TEST_SET_CASES_MAX} cases; it has {have}, "
            f"and {len(cases)} more were given"
        )


def _find(tx: Tx, name: str, *, for_update: bool = False) -> CaseSet:
    # A name no set could have (a NUL, a space) is missing without asking the database.
    found = (
        store.find(tx.conn, name=name, for_update=for_update) if NAME_RE.fullmatch(name) else None
    )
    if found is None or not visible(tx, found.prompt_id):
        raise TestSetNotFound(f"no test set {name[:64]!r}", field="test_set")
    return found


def visible(tx: Tx, prompt_id: int) -> bool:
    """Whether the caller may see the prompt (a key kept to some prompts sees their sets
    only; load.prompt_row refuses the others as missing)."""
    try:
        load.prompt_row(tx, PromptRef(id=prompt_id))
    except PromptNotFound:
        return False
    return True


def get(tx: Tx, name: str) -> CaseSet:
    """The set with its versions, newest first."""
    found = _find(tx, name)
    versions = store.versions(tx.conn, found.id, limit=VERSIONS_SHOWN)
    return CaseSet(**{**_fields(found), "versions": tuple(versions)})


def _fields(found: CaseSet) -> dict[str, Any]:
    return {f: getattr(found, f) for f in CaseSet.__dataclass_fields__}


def page(tx: Tx, *, prompt: PromptRef | None, limit: int, cursor: str | None) -> Page[CaseSet]:
    """Sets, oldest first (``prompt``: that prompt's)."""
    rules.check_limit(limit)
    after = rules.decode_cursor(cursor) if cursor else None
    prompt_id = load.prompt_row(tx, prompt).id if prompt is not None else None
    rows = store.page(tx.conn, prompt_id=prompt_id, after_id=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [r for r in rows if visible(tx, r.prompt_id)]
    return Page(items, rules.encode_cursor(rows[-1].id) if more and rows else None)


def cases(
    tx: Tx, name: str, *, version: int | None, limit: int, cursor: str | None
) -> Page[StoredCase]:
    """The cases of a version of the set (its newest by default), in order."""
    rules.check_limit(limit)
    found = _find(tx, name)
    number = found.version if version is None else version
    if not 1 <= number <= found.version:
        raise InvalidInput(f"test set {name!r} has versions 1 to {found.version}", field="version")
    after = rules.decode_cursor(cursor) if cursor else None
    rows = store.case_page(tx.conn, found.id, version=number, after_position=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rules.encode_cursor(rows[-1].position) if more and rows else None)
