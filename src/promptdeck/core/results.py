"""What operations return, besides domain records: whether a create was a replay, whether
an archive, restore, purge or rollback changed anything."""

from __future__ import annotations

from dataclasses import dataclass

from promptdeck.domain.models import Prompt, Version


@dataclass(frozen=True, slots=True)
class Created:
    """What a creating operation returns: the resource, and whether it was a replay."""

    replayed: bool


@dataclass(frozen=True, slots=True)
class PromptCreated(Created):
    prompt: Prompt


@dataclass(frozen=True, slots=True)
class VersionCreated(Created):
    version: Version
    unchanged: bool = False  # if_changed and identical to the latest: nothing was created


@dataclass(frozen=True, slots=True)
class Changed:
    """A version after an archive, restore or purge; ``changed`` False for a no-op."""

    version: Version
    changed: bool


@dataclass(frozen=True, slots=True)
class RolledBack:
    prompt: Prompt
    version: Version
    changed: bool
