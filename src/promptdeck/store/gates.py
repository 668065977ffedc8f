"""SQL for the gates of labels: which test set a label's candidate must pass, with which
thresholds (core/gates.py decides)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from promptdeck.domain.gates import Gate
from promptdeck.store.evaluation_tables import label_gates, test_sets

_GATES = sa.select(label_gates, test_sets.c.name.label("test_set_name")).select_from(
    label_gates.join(test_sets, test_sets.c.id == label_gates.c.test_set_id)
)


def _gate(row: Any) -> Gate:
    m = row._mapping
    return Gate(
        prompt_id=int(m["prompt_id"]),
        label=m["label"],
        test_set_id=int(m["test_set_id"]),
        test_set=m["test_set_name"],
        thresholds={str(k): float(v) for k, v in m["thresholds"].items()},
        created_at=m["created_at"],
        created_by=m["created_by"],
    )


def get(conn: Connection, prompt_id: int, label: str) -> Gate | None:
    row = conn.execute(
        _GATES.where(label_gates.c.prompt_id == prompt_id, label_gates.c.label == label)
    ).first()
    return None if row is None else _gate(row)


def of_prompt(conn: Connection, prompt_id: int) -> list[Gate]:
    rows = conn.execute(
        _GATES.where(label_gates.c.prompt_id == prompt_id).order_by(label_gates.c.label)
    )
    return [_gate(r) for r in rows]


def put(conn: Connection, values: dict[str, Any]) -> None:
    """Set the label's gate (replacing the one it had)."""
    conn.execute(
        sa.delete(label_gates).where(
            label_gates.c.prompt_id == values["prompt_id"], label_gates.c.label == values["label"]
        )
    )
    conn.execute(sa.insert(label_gates).values(**values))


def delete(conn: Connection, prompt_id: int, label: str) -> bool:
    result = conn.execute(
        sa.delete(label_gates).where(
            label_gates.c.prompt_id == prompt_id, label_gates.c.label == label
        )
    )
    return bool(result.rowcount)
