"""Import obeys exactly the API's rules: a bad record is a 422 naming the field, and a
refused request or file imports nothing. YAML files cannot expand aliases or repeat keys."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from starlette.testclient import TestClient

from promptdeck.cli.transfer import load
from promptdeck.core import Registry
from tests.cli.helpers import run
from tests.hostile.sweep import fingerprint
from tests.support.server import ServerProcess

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = record
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _purge_active(record: dict[str, Any]) -> None:
    active = record["active_version_number"]
    version = next(v for v in record["versions"] if v["number"] == active)
    version.update(content=None, archived=True, purged_at="2026-01-01T00:00:00Z")


def _duplicate_version_name(record: dict[str, Any]) -> None:
    record["versions"][1]["version_name"] = record["versions"][0]["version_name"]


CASES: list[tuple[str, Mutation, str]] = [
    ("naive time", _set("versions.0.created_at", "2026-01-01T00:00:00"), "versions.0.created_at"),
    ("event kind", _set("events.0.kind", "k" * 40), "events.0.kind"),
    ("long actor", _set("versions.0.created_by", "a" * 200), "versions.0.created_by"),
    ("NUL", _set("content", "a\x00b"), "content"),
    ("invisible tag", _set("tags", ["a\u200bb"]), "tags.0"),
    ("deep config", _set("model_config", {"a": json.loads("[" * 40 + "]" * 40)}), "model_config"),
    ("big number", _set("model_config", {"a": 2**60}), "model_config"),
    ("active purged", _purge_active, "active_version_number"),
    ("missing version", _set("events.0.version_number", 99), "events[0].version_number"),
    ("same name", _duplicate_version_name, "versions[1].version_name"),
    ("no versions", _set("versions", []), "versions"),
    ("all digits", _set("name", "123"), "name"),
]


@pytest.fixture
def record(api: TestClient) -> dict[str, Any]:
    api.post("/prompts", json={"name": "src", "content": "one"})
    api.post("/prompts/src/versions", json={"content": "two", "activate": True})
    exported: dict[str, Any] = api.get("/prompts/src/export").json()
    exported["name"] = "copy"
    return exported


@pytest.mark.parametrize(("case", "mutate", "field"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_import_record_is_422_naming_the_field_and_writes_nothing(
    api: TestClient,
    registry: Registry,
    record: dict[str, Any],
    case: str,
    mutate: Mutation,
    field: str,
) -> None:
    bad = copy.deepcopy(record)
    mutate(bad)
    before = fingerprint(registry.engine)
    answer = api.post("/prompts/import", json=bad)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert fingerprint(registry.engine) == before
    assert api.get("/prompts/copy").status_code == 404


def test_the_unchanged_record_imports(api: TestClient, record: dict[str, Any]) -> None:
    assert api.post("/prompts/import", json=record).status_code == 201


@pytest.mark.parametrize(
    "text",
    [
        "format: 1\na: &x [1, 2]\nb: *x\n",
        'format: 1\nlol: &a ["x","x"]\nlol2: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n',
        "format: 1\nprompts: []\nprompts: []\n",
        '{"format": 1, "prompts": [], "prompts": []}',
        "[" * 100_000,
    ],
)
def test_an_import_file_with_aliases_duplicate_keys_or_deep_nesting_is_refused(
    text: str,
) -> None:
    with pytest.raises(typer.BadParameter):
        load(text)


def test_a_file_with_one_bad_record_imports_nothing_and_names_the_record(
    server: ServerProcess, tmp_path: Path
) -> None:
    httpx.post(f"{server.url}/prompts", json={"name": "good", "content": "x"})
    exported = json.loads(run(server.url, "export", "good").stdout)
    first = copy.deepcopy(exported["prompts"][0])
    first["name"] = "first"
    second = copy.deepcopy(exported["prompts"][0])
    second["name"] = "second"
    second["versions"][0]["created_at"] = "2026-01-01T00:00:00"  # naive: refused
    path = tmp_path / "backup.json"
    path.write_text(json.dumps({**exported, "prompts": [first, second]}))
    result = run(server.url, "import", str(path))
    assert result.exit_code == 2, result.stdout
    assert "prompts[1] ('second')" in result.stderr
    assert "created_at" in result.stderr
    assert httpx.get(f"{server.url}/prompts/first").status_code == 404
