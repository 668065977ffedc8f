"""Translate a database constraint violation into the domain error it stands for."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from promptdeck.errors import (
    Conflict,
    PromptdeckError,
    PromptNameTaken,
    RolloutInProgress,
    VersionNameTaken,
)


def violated(exc: IntegrityError) -> str:
    """The violated constraint's name (PostgreSQL) or columns (SQLite), lower-cased."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return (name or str(exc.orig)).lower()


def translate(
    exc: IntegrityError, *, prompt_name: str = "", version_name: str = ""
) -> PromptdeckError:
    what = violated(exc)
    if "version_name" in what:
        return VersionNameTaken(
            f"version name {version_name!r} is already used by this prompt", field="version_name"
        )
    if "prompts_name" in what or "prompts.name" in what:
        return PromptNameTaken(
            f"a prompt named {prompt_name!r} already exists (possibly deleted: restore it)",
            field="name",
        )
    if "uq_rollouts_live" in what or "rollouts.prompt_id, rollouts.label" in what:
        return RolloutInProgress("the label already runs a rollout: abort it before another")
    return Conflict("the change conflicts with the current state; retry it")
