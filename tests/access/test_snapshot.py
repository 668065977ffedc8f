"""The access tests' ``snapshot`` (what a refused request must leave as it was) sees a change
of one column of one row, on either database: a digest that missed it would let every
"refusals change nothing" assertion pass by itself."""

from __future__ import annotations

import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import CreatePrompt, UpdatePrompt
from tests.access.conftest import snapshot

SETUP = Caller.local("setup")


def test_the_snapshot_changes_when_one_column_of_one_row_changes(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("snap", content="one", description="a"), SETUP)
    registry.create_prompt(CreatePrompt("other", content="two"), SETUP)
    first = snapshot(registry)
    assert snapshot(registry) == first  # the same database, the same snapshot

    registry.update_prompt(UpdatePrompt("snap", changes={"description": "b"}), SETUP)
    second = snapshot(registry)
    assert second != first

    with registry.engine.begin() as conn:  # a change no event records: a byte of content
        conn.execute(
            sa.text(
                "UPDATE blobs SET raw_size = raw_size + 1 WHERE id = (SELECT min(id) FROM blobs)"
            )
        )
    assert snapshot(registry) != second
