"""Issue 22: a protected label moves, by whatever path, only for a caller who may move it
(the admin role; a deploy request is decided by one). Generated: which label, whether it is
protected, which path, which role; every path passes the core's one check
(core/labels.py ``log_move``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptdeck.core import Registry
from promptdeck.domain.access import Role
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    MoveLabel,
    ProtectLabel,
    RemoveLabel,
    RevertLabel,
    Rollback,
)
from promptdeck.domain.labels import ACTIVE
from promptdeck.errors import LabelledVersionProtected, LabelProtected

names = (f"paths-{i}" for i in itertools.count())


def moves_of(registry: Registry, name: str, label: str) -> list[tuple[int | None, int | None]]:
    history = registry.label_history(name, label, SYSTEM, limit=200).items
    return [(m.from_version_id, m.to_version_id) for m in history]


def pointer(registry: Registry, name: str, label: str) -> int | None:
    found = {lab.name: lab.version_id for lab in registry.list_labels(name, SYSTEM)}
    return found.get(label)


# Each path: (name, label, versions, caller) -> a call that moves ``label``.
Path = Callable[[Registry, str, str, list[int], Caller], object]
PATHS: dict[str, Path] = {
    "move": lambda r, n, lab, v, c: r.move_label(MoveLabel(n, lab, v[0]), c),
    "remove": lambda r, n, lab, v, c: r.remove_label(RemoveLabel(n, lab), c),
    "revert": lambda r, n, lab, v, c: r.revert_label(RevertLabel(n, lab), c),
    "rollback": lambda r, n, lab, v, c: r.rollback(Rollback(n, v[0], label=lab), c),
    "create active": lambda r, n, lab, v, c: r.create_version(
        CreateVersion(n, content="newer", activate=True), c
    ),
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    label=st.sampled_from([ACTIVE, "production", "staging"]),
    protected=st.booleans(),
    path=st.sampled_from(sorted(PATHS)),
    admin=st.booleans(),
)
def test_every_path_that_moves_a_label_refuses_a_writer_when_it_is_protected(
    registry: Registry, label: str, protected: bool, path: str, admin: bool
) -> None:
    name = next(names)
    registry.create_prompt(CreatePrompt(name, content="first"), SYSTEM)
    second = registry.create_version(CreateVersion(name, content="second", activate=True), SYSTEM)
    versions = [v.id for v in registry.list_versions(name, SYSTEM, limit=10).items]
    first = min(versions)
    if label != ACTIVE:  # the label points at the second version, moved there once
        registry.move_label(MoveLabel(name, label, second.version.id), SYSTEM)
    registry.protect_label(ProtectLabel(name, label, protected), SYSTEM)
    caller = Caller.local("someone", Role.admin if admin else Role.write)
    # Creating a version moves only `active`.
    label_moved = ACTIVE if path == "create active" else label
    before = (pointer(registry, name, label_moved), moves_of(registry, name, label_moved))
    refused = protected and not admin and label_moved == label
    try:
        PATHS[path](registry, name, label, [first], caller)
    except LabelProtected:
        assert refused, f"{path} of {label} refused although it may move"
        after = (pointer(registry, name, label_moved), moves_of(registry, name, label_moved))
        assert after == before  # nothing moved, nothing recorded
        return
    except LabelledVersionProtected:  # removing `active` is refused for everybody
        assert label == ACTIVE and path == "remove"
        return
    assert not refused, f"a writer moved the protected label {label} by {path}"
