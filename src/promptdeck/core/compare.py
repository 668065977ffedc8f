"""Comparing two versions of a prompt (``GET …/versions/{version_id}/diff?against=``, the UI's
compare page, the CLI's ``diff``): the text diff, the model config's changes and the
contract's, each contract change breaking or compatible (domain/contracts/diff.py); and the
rule that a protected label moves to a version breaking what it serves now only when the
caller accepts it (``check_move``, called by every path that moves a label)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptdeck.core import load
from promptdeck.core.tx import Tx
from promptdeck.domain import diff
from promptdeck.domain.contracts import Contract, ContractChange, diff_contracts
from promptdeck.domain.models import Version
from promptdeck.domain.refs import PromptLike
from promptdeck.errors import BreakingChange

# Contract changes named in a 409's detail; the rest are counted.
DETAIL_CHANGES_MAX = 10


@dataclass(frozen=True, slots=True)
class Comparison:
    """What changed from ``old`` to ``new``."""

    old: Version
    new: Version
    contract_changes: list[ContractChange]

    @property
    def breaking(self) -> bool:
        return any(change.breaking for change in self.contract_changes)

    @property
    def comparable(self) -> bool:
        """Both contents are there (a purged version has none: contract changes only)."""
        return self.old.content is not None and self.new.content is not None

    @property
    def old_text(self) -> str:
        return diff_text(self.old)

    @property
    def new_text(self) -> str:
        return diff_text(self.new)

    def patch(self, context: int = 3) -> str:
        """The text diff as ``diff -u`` prints it ("" when the texts are the same, or when
        a content is gone)."""
        if not self.comparable:
            return ""
        return diff.patch(
            self.old_text,
            self.new_text,
            old_name=f"{self.old.version_name} (#{self.old.number})",
            new_name=f"{self.new.version_name} (#{self.new.number})",
            context=context,
        )

    def stats(self) -> tuple[int, int]:
        """(lines added, lines removed)."""
        return diff.stats(self.old_text, self.new_text) if self.comparable else (0, 0)

    def coarse(self) -> bool:
        return self.comparable and diff.is_coarse(self.old_text, self.new_text)

    def config_changes(self) -> list[diff.ConfigChange]:
        return diff.config_changes(self.old.model_config or {}, self.new.model_config or {})


def diff_text(version: Version) -> str:
    """What a text diff compares: a text version's content; a chat version's messages one
    after the other, each under a ``[role]`` line (its JSON is one line)."""
    messages = version.messages
    if messages is None:
        return version.content or ""
    blocks = []
    for message in messages:
        if message["role"] == "placeholder":
            blocks.append(f"[placeholder] {message['name']}")
        else:
            blocks.append(f"[{message['role']}]\n{message['content']}")
    return "\n\n".join(blocks)


def contract_of(version: Version) -> Contract:
    """What a version is compared as: its contract with its variables inferred when it gave
    none (a purged version without one: an empty contract, nothing known)."""
    return version.full_contract or Contract()


def changes(old: Version, new: Version) -> list[ContractChange]:
    return diff_contracts(contract_of(old), contract_of(new))


def compare(tx: Tx, ref: PromptLike, version_id: int, against: int) -> Comparison:
    """Version ``version_id`` (the new side) against version ``against`` of the same prompt
    (the old side); rule 5 for both."""
    row = load.prompt_row(tx, ref)
    new = load.version(tx, row.id, version_id)
    old = load.version(tx, row.id, against)
    return Comparison(old, new, changes(old, new))


def check_move(
    tx: Tx,
    prompt_id: int,
    label: str,
    from_version_id: int | None,
    to_version_id: int,
    *,
    accept_breaking: bool,
) -> list[ContractChange]:
    """The one rule every move of a label goes through (a move, a rollback, a revert, a
    deploy approval, a rollout's start): a protected label moved to a version whose
    contract breaks what the label serves now needs ``accept_breaking``, else
    BreakingChange (409) listing the breaking changes. Returns those changes (empty when
    nothing breaks, or the label is not protected or serves nothing yet), so the move can
    record that they were accepted."""
    if from_version_id is None or from_version_id == to_version_id:
        return []
    if label not in load.protected(tx, prompt_id):
        return []
    old = load.version(tx, prompt_id, from_version_id)
    new = load.version(tx, prompt_id, to_version_id)
    breaking = [change for change in changes(old, new) if change.breaking]
    if breaking and not accept_breaking:
        raise BreakingChange(
            f"moving {label!r} from version {old.number} to version {new.number} breaks "
            f"what it serves now: {describe(breaking)}; send accept_breaking to move it anyway",
            field="accept_breaking",
            errors=[{"path": c.path, "message": c.change} for c in breaking],
        )
    return breaking


def accepted(breaking: list[ContractChange]) -> dict[str, Any]:
    """What a move that accepted breaking changes adds to its event's detail: up to
    DETAIL_CHANGES_MAX lines, then a count of the others."""
    shown = [f"{c.path}: {c.change}" for c in breaking[:DETAIL_CHANGES_MAX]]
    more = len(breaking) - len(shown)
    return {"breaking_accepted": shown} | ({"breaking_accepted_more": more} if more else {})


def describe(breaking: list[ContractChange]) -> str:
    named = [f"{c.path}: {c.change}" for c in breaking[:DETAIL_CHANGES_MAX]]
    more = len(breaking) - len(named)
    return "; ".join(named) + (f"; and {more} more" if more else "")
