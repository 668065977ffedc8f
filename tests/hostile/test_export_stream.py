"""GET /prompts/{id}/export streams a batch of versions at a time and writes exactly the
record the whole-history export builds."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.core.transfer import EXPORT_BATCH
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    DeletePrompt,
    PurgeVersion,
    Rollback,
)
from promptdeck.schemas import PromptRecord


def test_the_streamed_export_is_the_whole_record_across_batches(
    api: TestClient, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("long", content="v1", model_config={"t": 0.5}), SYSTEM)
    for n in range(2, 2 * EXPORT_BATCH + 5):
        registry.create_version(
            CreateVersion("long", content=f"v{n}", version_name=f"n{n}"), SYSTEM
        )
    registry.rollback(
        Rollback("long", registry.list_versions("long", SYSTEM, limit=1).items[0].id), SYSTEM
    )
    third = registry.list_versions("long", SYSTEM, name="n3").items[0]
    registry.purge_version(PurgeVersion("long", third.id, reason="leaked"), SYSTEM)
    expected = PromptRecord.model_validate(registry.export_prompt("long", SYSTEM)).model_dump(
        mode="json", by_alias=True
    )
    answer = api.get("/prompts/long/export")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.content) == expected
    assert len(expected["versions"]) == 2 * EXPORT_BATCH + 4


def test_the_export_of_a_missing_prompt_is_a_404_problem(api: TestClient) -> None:
    answer = api.get("/prompts/nothing/export")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_streamed_export_pages_are_the_whole_records_with_the_same_cursor(
    api: TestClient, registry: Registry
) -> None:
    for name in ("a", "b", "c"):
        registry.create_prompt(CreatePrompt(name, content=name), SYSTEM)
    registry.delete_prompt(DeletePrompt("b"), SYSTEM)
    page = registry.export_prompts(SYSTEM, limit=2)
    expected = {
        "items": [
            PromptRecord.model_validate(r).model_dump(mode="json", by_alias=True)
            for r in page.items
        ],
        "next_cursor": page.next_cursor,
    }
    first = api.get("/export", params={"limit": 2}).json()
    assert first == expected
    last = api.get("/export", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [r["name"] for r in last["items"]] == ["c"]
    assert last["next_cursor"] is None
