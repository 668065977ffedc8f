"""The rules between the parts of an imported history (one exported prompt record).

Each value of the record was already checked by the wire schema (``schemas.PromptImport``:
the API's own bounds); this checks what no single field can: numbers and names unique,
the active version a live version, events naming versions that are there, times in order.
Pure: returns the first problem as (field, message), or None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from promptdeck.domain import rules, templates
from promptdeck.domain.contracts import check_contract, check_template
from promptdeck.errors import ContractInvalid, InvalidInput


def problem(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first broken rule of ``record`` (a validated PromptImport dump), or None."""
    versions: Sequence[Mapping[str, Any]] = record["versions"]
    if not versions:
        return "versions", "a history has at least one version"
    numbers: set[int] = set()
    names: set[str] = set()
    for i, version in enumerate(versions):
        where = f"versions[{i}]"
        if version["number"] in numbers:
            return f"{where}.number", f"number {version['number']} appears twice"
        if version["version_name"] in names:
            return f"{where}.version_name", f"name {version['version_name']!r} appears twice"
        numbers.add(version["number"])
        names.add(version["version_name"])
        purged = version.get("purged_at") is not None
        if purged != (version["content"] is None):
            return f"{where}.content", "content is null exactly when the version is purged"
        if purged and not version.get("archived"):
            return f"{where}.archived", "a purged version is archived"
        contract, found = _contract(version, where)
        if found is not None:
            return found
        if version["content"] is not None:
            hashed = templates.hashed(
                str(version.get("kind") or "text"),
                str(version.get("template_format") or "plain"),
                version["content"],
            )
            expected = rules.content_hash(hashed, version.get("model_config") or {}, contract)
            if version["content_hash"] != expected:
                return (
                    f"{where}.content_hash",
                    "does not match the content, model_config and contract",
                )
    active = record["active_version_number"]
    by_number = {v["number"]: v for v in versions}
    if active not in by_number:
        return "active_version_number", f"no version numbered {active}"
    if by_number[active].get("archived") or by_number[active].get("purged_at") is not None:
        return "active_version_number", "the active version must be live (not archived)"
    if record["next_version_number"] < max(numbers):
        return "next_version_number", "must be at least the highest version number"
    created: datetime = record["created_at"]
    if record["updated_at"] < created:
        return "updated_at", "is before created_at"
    deleted = record.get("deleted_at")
    if deleted is not None and deleted < created:
        return "deleted_at", "is before created_at"
    for i, event in enumerate(record["events"]):
        for key in ("version_number", "from_version_number"):
            number = event.get(key)
            if number is not None and number not in by_number:
                return f"events[{i}].{key}", f"no version numbered {number}"
    return _labels_problem(record, by_number)


def stored_contract(version: Mapping[str, Any]) -> dict[str, Any] | None:
    """A record's version's contract as it is stored (records written before contracts
    have none). Raises ContractInvalid naming ``contract…`` when it cannot be."""
    raw = version.get("contract")
    if raw is None:
        return None
    contract = check_contract(raw)
    if version.get("content") is not None:
        check_template(
            contract,
            str(version.get("kind") or "text"),
            str(version.get("template_format") or "plain"),
            version["content"],
        )
    return contract.to_json()


def _contract(
    version: Mapping[str, Any], where: str
) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    try:
        return stored_contract(version), None
    except ContractInvalid as exc:
        return None, (f"{where}.{exc.field or 'contract'}", exc.detail)
    except InvalidInput as exc:  # a template its contract cannot be checked against
        return None, (f"{where}.content", exc.detail)


def _labels_problem(
    record: Mapping[str, Any], by_number: Mapping[int, Any]
) -> tuple[str, str] | None:
    """Labels (issue 14): names unique, every version number there, base moves in range."""
    seen: set[str] = set()
    for i, label in enumerate(record.get("labels") or []):
        if label["name"] in seen:
            return f"labels[{i}].name", f"label {label['name']!r} appears twice"
        seen.add(label["name"])
        if label["version_number"] not in by_number:
            return f"labels[{i}].version_number", f"no version numbered {label['version_number']}"
    if len(set(record.get("protected_labels") or [])) != len(record.get("protected_labels") or []):
        return "protected_labels", "a label appears twice"
    moves = record.get("label_moves") or []
    for i, move in enumerate(moves):
        for key in ("from_version_number", "to_version_number"):
            number = move.get(key)
            if number is not None and number not in by_number:
                return f"label_moves[{i}].{key}", f"no version numbered {number}"
    for i, request in enumerate(record.get("deploy_requests") or []):
        for key in ("version_number", "from_version_number"):
            number = request.get(key)
            if number is not None and number not in by_number:
                return f"deploy_requests[{i}].{key}", f"no version numbered {number}"
        base = request.get("base_move")
        if base is not None and base >= len(moves):
            return f"deploy_requests[{i}].base_move", f"no label move numbered {base}"
    return None
