"""Export and import carry labels, their history, protection and deploy requests."""

from __future__ import annotations

import json

from pydantic_core import to_json

from promptdeck.core import Registry


def test_export_then_import_reproduces_labels_history_and_requests(registry: Registry) -> None:
    registry.create_prompt("p", content="one")
    v2 = registry.create_version("p", content="two").version
    v3 = registry.create_version("p", content="three").version
    registry.move_label("p", "production", v2.id, reason="ship", actor="ana")
    registry.move_label("p", "staging", v3.id, actor="bo")
    registry.protect_label("p", "production", True)
    request = registry.propose_deploy("p", "production", v3.id, reason="go", actor="bo")
    registry.decide_deploy("p", request.id, approve=False, actor="ana")
    registry.propose_deploy("p", "production", v3.id, reason="again", actor="bo")

    record = json.loads(to_json(registry.export_prompt("p")))  # as it travels, JSON
    record["name"] = "copy"
    assert registry.import_prompt(record)[1]

    def shape(name: str) -> tuple[object, ...]:
        return (
            [(x.name, x.number, x.protected, x.moved_by) for x in registry.list_labels(name)],
            [
                (m.label, m.from_number, m.to_number, m.actor, m.reason)
                for m in registry.label_history(name, None).items
            ],
            [
                (r.label, r.number, r.status, r.proposed_by, r.decided_by)
                for r in registry.list_deploys(name).items
            ],
        )

    assert shape("copy") == shape("p")
    assert registry.list_deploys("copy").items[0].status == "open"  # not stale after import
    assert registry.import_prompt(record) == (registry.get_prompt("copy"), False)
