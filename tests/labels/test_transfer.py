"""Export and import carry labels, their history, protection and deploy requests."""

from __future__ import annotations

import json

from pydantic_core import to_json

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    DecideDeploy,
    ImportPrompt,
    MoveLabel,
    ProposeDeploy,
    ProtectLabel,
)


def test_export_then_import_reproduces_labels_history_and_requests(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="one"), SYSTEM)
    v2 = registry.create_version(CreateVersion("p", content="two"), SYSTEM).version
    v3 = registry.create_version(CreateVersion("p", content="three"), SYSTEM).version
    registry.move_label(MoveLabel("p", "production", v2.id, reason="ship"), Caller.local("ana"))
    registry.move_label(MoveLabel("p", "staging", v3.id), Caller.local("bo"))
    registry.protect_label(ProtectLabel("p", "production", True), SYSTEM)
    request = registry.propose_deploy(
        ProposeDeploy("p", "production", v3.id, reason="go"), Caller.local("bo")
    )
    registry.decide_deploy(DecideDeploy("p", request.id, approve=False), Caller.local("ana"))
    registry.propose_deploy(
        ProposeDeploy("p", "production", v3.id, reason="again"), Caller.local("bo")
    )

    record = json.loads(to_json(registry.export_prompt("p", SYSTEM)))  # as it travels, JSON
    record["name"] = "copy"
    assert registry.import_prompt(ImportPrompt(record), SYSTEM)[1]

    def shape(name: str) -> tuple[object, ...]:
        return (
            [
                (x.name, x.number, x.protected, x.moved_by)
                for x in registry.list_labels(name, SYSTEM)
            ],
            [
                (m.label, m.from_number, m.to_number, m.actor, m.reason)
                for m in registry.label_history(name, None, SYSTEM).items
            ],
            [
                (r.label, r.number, r.status, r.proposed_by, r.decided_by)
                for r in registry.list_deploys(name, SYSTEM).items
            ],
        )

    assert shape("copy") == shape("p")
    assert registry.list_deploys("copy", SYSTEM).items[0].status == "open"  # not stale after import
    assert registry.import_prompt(ImportPrompt(record), SYSTEM) == (
        registry.get_prompt("copy", SYSTEM),
        False,
    )
