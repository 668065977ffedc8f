"""Test sets: named, versioned collections of cases for one prompt (issue 25). Pure: a case's
checks, what a set and its versions are, and the reading of JSONL and CSV imports
(docs/evaluations.md, "Importing cases").

A case is ``{"variables": {...}, "expected": ..., "metadata": {...}}``: the variables the
prompt is rendered with, what the answer should be (any JSON value; the evaluators that
compare with it read it), and free metadata. Adding cases makes a new version of the set;
version N holds the cases added by versions 1 to N, in the order they were added."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from promptdeck import limits
from promptdeck.domain import values
from promptdeck.errors import InvalidInput

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
CASE_KEYS = ("variables", "expected", "metadata")
FORMATS = ("jsonl", "csv")


@dataclass(frozen=True, slots=True)
class Case:
    """A case as given: what is checked and stored."""

    variables: dict[str, Any]
    expected: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"variables": self.variables, "expected": self.expected, "metadata": self.metadata}


@dataclass(frozen=True, slots=True)
class StoredCase:
    """A case of a set: ``position`` 1, 2, 3… in the set; ``added_in`` the set's version that
    added it (it belongs to that version and every later one)."""

    id: int
    position: int
    added_in: int
    case: Case


@dataclass(frozen=True, slots=True)
class CaseSetVersion:
    number: int
    case_count: int  # in this version, in all
    added: int  # by this version
    description: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class CaseSet:
    """A test set (``CaseSet``: pytest collects classes named Test…)."""

    id: int
    name: str
    prompt_id: int
    prompt_name: str
    description: str
    version: int  # the newest version's number
    case_count: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    versions: tuple[CaseSetVersion, ...] = ()  # newest first, when asked for


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or name.isdigit():
        raise InvalidInput(
            "a test set's name is a slug of 1 to 64 characters (a-z, 0-9, . _ -), not all digits",
            field="name",
        )
    return name


def _json(value: Any, where: str) -> Any:
    try:
        return values.check_json(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=where) from None


def check_case(raw: Any, where: str = "case") -> Case:
    """A case from its JSON form; unknown keys, a non-object ``variables`` or ``metadata``,
    a value that cannot be stored exactly, or a case over its size bound are refused."""
    if isinstance(raw, Case):
        raw = raw.to_json()
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            'a case is an object: {"variables": {...}, "expected": ...}', field=where
        )
    unknown = sorted(k for k in raw if k not in CASE_KEYS)
    if unknown:
        key = str(unknown[0])[:40]
        raise InvalidInput(
            f"unknown key {key!r} (a case has variables, expected, metadata)",
            field=f"{where}.{key}",
        )
    variables = raw.get("variables", {})
    metadata = raw.get("metadata") or {}
    for key, value in (("variables", variables), ("metadata", metadata)):
        if not isinstance(value, Mapping):
            raise InvalidInput(f"{key} must be an object", field=f"{where}.{key}")
    case = Case(
        dict(_json(dict(variables), f"{where}.variables")),
        _json(raw.get("expected"), f"{where}.expected"),
        dict(_json(dict(metadata), f"{where}.metadata")),
    )
    if values.json_size(case.to_json()) > limits.TEST_CASE_MAX_BYTES:
        raise InvalidInput(
            f"a case is at most {limits.TEST_CASE_MAX_BYTES} bytes of JSON", field=where
        )
    return case


def check_cases(raws: Any, where: str = "cases") -> list[Case]:
    """The cases one request adds: 1 to ``TEST_SET_ADD_MAX``, each checked."""
    if not isinstance(raws, Sequence) or isinstance(raws, str | bytes):
        raise InvalidInput("cases must be a list of cases", field=where)
    if not 1 <= len(raws) <= limits.TEST_SET_ADD_MAX:
        raise InvalidInput(f"give 1 to {limits.TEST_SET_ADD_MAX} cases", field=where)
    return [check_case(raw, f"{where}[{i}]") for i, raw in enumerate(raws)]


# --- imports --------------------------------------------------------------------------------


def parse_cases(data: str, fmt: str, where: str = "data") -> list[Case]:
    """The cases of a JSONL or CSV text (docs/evaluations.md, "Importing cases")."""
    if fmt not in FORMATS:
        raise InvalidInput("format is jsonl or csv", field="format")
    if len(data) > limits.TEST_SET_IMPORT_MAX_CHARS:
        raise InvalidInput(
            f"an import is at most {limits.TEST_SET_IMPORT_MAX_CHARS} characters", field=where
        )
    raws = _jsonl(data, where) if fmt == "jsonl" else _csv(data, where)
    if not raws:
        raise InvalidInput("the import holds no case", field=where)
    if len(raws) > limits.TEST_SET_ADD_MAX:
        raise InvalidInput(
            f"an import holds at most {limits.TEST_SET_ADD_MAX} cases; split it", field=where
        )
    return [check_case(raw, f"{where}:{line}") for line, raw in raws]


def _jsonl(data: str, where: str) -> list[tuple[int, Any]]:
    """One case a line, as JSON; blank lines are skipped."""
    found: list[tuple[int, Any]] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append((number, json.loads(line)))
        except (ValueError, RecursionError):
            raise InvalidInput(f"line {number} is not JSON", field=f"{where}:{number}") from None
        if len(found) > limits.TEST_SET_ADD_MAX:
            break
    return found


def _cell_json(text: str, where: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput(f"{what} must be JSON", field=where) from None


def _csv(data: str, where: str) -> list[tuple[int, Any]]:
    """A header row, then a case a row. Columns: ``expected`` (text), ``expected_json``
    (a JSON value), ``metadata`` (a JSON object), ``metadata.KEY`` (text), ``variables`` (a
    JSON object of variables), and every other column a variable of that name (text)."""
    reader = csv.reader(io.StringIO(data, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return []
        names = [h.strip() for h in header]
        if len(set(names)) != len(names) or any(not n for n in names):
            raise InvalidInput("the header row names each column once", field=f"{where}:1")
        if "expected" in names and "expected_json" in names:
            raise InvalidInput("give expected or expected_json, not both", field=f"{where}:1")
        found: list[tuple[int, Any]] = []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise InvalidInput(
                    f"line {line} has {len(row)} cells; the header has {len(names)}",
                    field=f"{where}:{line}",
                )
            found.append((line, _row(dict(zip(names, row, strict=True)), f"{where}:{line}")))
            if len(found) > limits.TEST_SET_ADD_MAX:
                break
        return found
    except csv.Error as exc:
        raise InvalidInput(f"not CSV: {exc}", field=where) from None


def _row(cells: dict[str, str], where: str) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    case: dict[str, Any] = {}
    for name, text in cells.items():
        if name == "expected":
            case["expected"] = text
        elif name == "expected_json":
            case["expected"] = _cell_json(text, where, "expected_json") if text else None
        elif name == "metadata":
            found = _cell_json(text, where, "metadata") if text.strip() else {}
            if not isinstance(found, dict):
                raise InvalidInput("metadata must be a JSON object", field=where)
            metadata.update(found)
        elif name.startswith("metadata."):
            metadata[name.removeprefix("metadata.")] = text
        elif name == "variables":
            found = _cell_json(text, where, "variables") if text.strip() else {}
            if not isinstance(found, dict):
                raise InvalidInput("variables must be a JSON object", field=where)
            variables.update(found)
        else:
            variables[name] = text
    case["variables"] = variables
    case["metadata"] = metadata
    return case
