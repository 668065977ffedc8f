"""Contracts for the tests, and records carrying them (import is how a history written
elsewhere arrives with its contracts)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from promptdeck.domain import rules, templates
from promptdeck.domain.contracts import check_contract

CUSTOMER = {
    "type": "object",
    "properties": {
        "customer": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "age": {"type": "integer", "minimum": 0},
            },
            "required": ["name"],
        },
        "tone": {"type": "string", "enum": ["warm", "brief"], "description": "How to sound"},
    },
    "required": ["customer"],
}
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}
ANSWER = {
    "type": "json_schema",
    "json_schema": {
        "name": "reply",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
            "additionalProperties": False,
        },
    },
}
CONTRACT: dict[str, Any] = {"variables": CUSTOMER, "tools": [TOOL], "response_format": ANSWER}
TEMPLATE = "Reply to {{customer}}."


def with_required(contract: dict[str, Any], name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The contract with one more variable, required (a breaking change)."""
    variables = contract["variables"]
    return {
        **contract,
        "variables": {
            **variables,
            "properties": {**variables["properties"], name: schema},
            "required": [*variables["required"], name],
        },
    }


def record_with(api: TestClient, source: str, name: str, contracts: list[Any]) -> dict[str, Any]:
    """The export of ``source`` under ``name``, its versions (oldest first) given these
    contracts (None: none), with content hashes to match."""
    response = api.get(f"/prompts/{source}/export")
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    record["name"] = name
    for version, raw in zip(record["versions"], contracts, strict=True):
        stored = None if raw is None else check_contract(raw).to_json()
        version["contract"] = stored
        hashed = templates.hashed(version["kind"], version["template_format"], version["content"])
        version["content_hash"] = rules.content_hash(hashed, version["model_config"], stored)
    return record
