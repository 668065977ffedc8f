"""Protected labels and deploy requests (issue 14), on the core with the role given as the
core takes it: the ``Caller`` (its role and name)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from promptdeck.core import Registry
from promptdeck.domain.access import Role
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    DecideDeploy,
    MoveLabel,
    ProposeDeploy,
    ProtectLabel,
    RevertLabel,
    Rollback,
)
from promptdeck.errors import (
    DeployRequestClosed,
    DeployRequestStale,
    LabelProtected,
    PromptdeckError,
    SelfApproval,
)
from tests.support.load import figure

ADMIN = {"write": False, "admin": True}


def as_role(actor: str, admin: bool) -> Caller:
    return Caller.local(actor, Role.admin if admin else Role.write)


def setup(registry: Registry, name: str) -> list[int]:
    first = registry.create_prompt(
        CreatePrompt(name, content="Hello"), SYSTEM
    ).prompt.active_version_id
    ids = [
        first,
        *(
            registry.create_version(CreateVersion(name, content=f"Hello {n}"), SYSTEM).version.id
            for n in (2, 3)
        ),
    ]
    registry.move_label(MoveLabel(name, "production", ids[0]), SYSTEM)
    registry.move_label(MoveLabel(name, "staging", ids[0]), SYSTEM)
    registry.protect_label(ProtectLabel(name, "production", True), SYSTEM)
    registry.protect_label(ProtectLabel(name, "active", True), SYSTEM)
    return ids


def outcome(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    try:
        call(*args, **kwargs)
    except PromptdeckError as exc:
        return exc.code
    return "ok"


def test_role_by_label_by_path_matrix_has_no_mismatch(registry: Registry) -> None:
    """write/admin x protected production, protected active, unprotected staging x direct
    move, rollback ?label, revert, approve by the proposer, by another writer, by another
    admin."""
    paths = ["move", "rollback", "revert", "approve-own", "approve-writer", "approve-admin"]
    mismatches: list[tuple[str, str, str, str]] = []
    cases = 0
    for n, (role, label, path) in enumerate(
        itertools.product(ADMIN, ["production", "active", "staging"], paths)
    ):
        name = f"m{n}"
        ids = setup(registry, name)
        registry.move_label(MoveLabel(name, label, ids[1]), SYSTEM)  # something to revert
        may = ADMIN[role]
        protected = label != "staging"
        if path == "move":
            got = outcome(registry.move_label, MoveLabel(name, label, ids[2]), as_role(role, may))
            expected = "ok" if may or not protected else "label-protected"
        elif path == "rollback":
            cmd = Rollback(name, ids[2], label=label)
            got = outcome(registry.rollback, cmd, as_role(role, may))
            expected = "ok" if may or not protected else "label-protected"
        elif path == "revert":
            got = outcome(registry.revert_label, RevertLabel(name, label), as_role(role, may))
            expected = "ok" if may or not protected else "label-protected"
        else:
            request = registry.propose_deploy(
                ProposeDeploy(name, label, ids[2], reason="ship"), Caller.local(role)
            )
            decider, decider_may = {
                "approve-own": (role, may),
                "approve-writer": ("other-writer", False),
                "approve-admin": ("other-admin", True),
            }[path]
            got = outcome(
                registry.decide_deploy,
                DecideDeploy(name, request.id, approve=True),
                as_role(decider, decider_may),
            )
            expected = {
                "approve-own": "self-approval",
                "approve-writer": "label-protected",
                "approve-admin": "ok",
            }[path]
            if got == "ok":
                assert registry.get_active(name, SYSTEM, label)[1].id == ids[2]
        cases += 1
        if got != expected:
            mismatches.append((role, label, path, got))
    figure(
        "label role matrix", f"{cases} cases (role x label x path): {len(mismatches)} mismatches"
    )
    assert mismatches == []


def test_approval_moves_the_label_at_once_and_everything_is_recorded(registry: Registry) -> None:
    ids = setup(registry, "p")
    request = registry.propose_deploy(
        ProposeDeploy("p", "production", ids[2], reason="new tone"), Caller.local("wri")
    )
    assert request.status == "open" and request.from_version_id == ids[0]
    assert "- Hello" in request.diff and "+ Hello 3" in request.diff
    approved = registry.decide_deploy(
        DecideDeploy("p", request.id, approve=True, reason="looks good"), Caller.local("adm")
    )
    assert approved.status == "approved" and approved.decided_by == "adm"
    assert registry.get_active("p", SYSTEM, "production")[1].id == ids[2]
    move = registry.label_history("p", "production", SYSTEM).items[0]
    assert (move.actor, move.to_version_id) == ("adm", ids[2])
    assert move.reason == f"deploy request {request.id}: new tone"
    kinds = [e.kind for e in registry.list_events("p", SYSTEM).items]
    assert kinds[:3] == ["deploy.approved", "label.moved", "deploy.requested"]
    with pytest.raises(DeployRequestClosed):
        registry.decide_deploy(DecideDeploy("p", request.id, approve=False), Caller.local("adm2"))


def test_a_request_whose_label_moved_meanwhile_is_stale_and_cannot_be_approved(
    registry: Registry,
) -> None:
    ids = setup(registry, "p")
    request = registry.propose_deploy(
        ProposeDeploy("p", "production", ids[2], reason="ship"), Caller.local("wri")
    )
    registry.move_label(MoveLabel("p", "production", ids[1]), Caller.local("adm"))
    assert registry.get_deploy("p", request.id, SYSTEM).status == "stale"
    with pytest.raises(DeployRequestStale):
        registry.decide_deploy(DecideDeploy("p", request.id, approve=True), Caller.local("adm2"))
    assert registry.get_active("p", SYSTEM, "production")[1].id == ids[1]
    renewed = registry.propose_deploy(
        ProposeDeploy("p", "production", ids[2], reason="again"), Caller.local("wri")
    )
    registry.decide_deploy(DecideDeploy("p", renewed.id, approve=True), Caller.local("adm2"))
    assert registry.get_active("p", SYSTEM, "production")[1].id == ids[2]


def test_a_rejected_request_moves_nothing(registry: Registry) -> None:
    ids = setup(registry, "p")
    request = registry.propose_deploy(
        ProposeDeploy("p", "production", ids[2], reason="ship"), Caller.local("wri")
    )
    with pytest.raises(SelfApproval):
        registry.decide_deploy(DecideDeploy("p", request.id, approve=False), Caller.local("wri"))
    rejected = registry.decide_deploy(
        DecideDeploy("p", request.id, approve=False), Caller.local("adm")
    )
    assert rejected.status == "rejected"
    assert registry.get_active("p", SYSTEM, "production")[1].id == ids[0]
    assert [r.status for r in registry.list_deploys("p", SYSTEM).items] == ["rejected"]


def test_only_an_admin_protects_a_label(registry: Registry) -> None:
    setup(registry, "p")
    with pytest.raises(LabelProtected):
        registry.protect_label(
            ProtectLabel("p", "staging", True), Caller.local("anonymous", Role.write)
        )
    assert registry.get_label("p", "production", SYSTEM).protected is True
