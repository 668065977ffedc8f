"""Who asks the core for something: one ``Caller``, carried by the transaction (core/tx.py).

It is every permission fact in one place: the name events record, the role, and the prompt
prefixes a key or person is limited to. Faces build it from the principal the gate found
(``Caller.of``); tests, benchmarks and the CLI's ``db`` commands use ``Caller.local`` or
``SYSTEM``. The core asks it (``may``, ``may_see``, ``may_move_protected``); it knows no
HTTP."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from promptdeck.domain.access import Principal, Role
from promptdeck.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Caller:
    actor: str  # the name recorded in events, moves and versions
    role: Role
    kind: str  # "key", "user", "open" (a server without keys), "local" (this process)
    prefixes: tuple[str, ...] = ()  # only prompts named so (none: every prompt)

    @classmethod
    def of(cls, principal: Principal, actor: str | None = None) -> Caller:
        """The caller a principal makes; ``actor`` names it on an open server only (the
        X-Actor header, a form's name): a key or a person is always its own name."""
        if not actor:
            return _caller_of(principal)  # the hot path's case: made once per principal
        name = actor if principal.kind == "open" else principal.name
        return cls(name, principal.role, principal.kind, principal.prefixes)

    @classmethod
    def local(cls, actor: str = "anonymous", role: Role = Role.admin) -> Caller:
        """A caller in this process (tests, benchmarks, ``promptdeck db``): every prompt."""
        return cls(actor, role, "local")

    def may(self, role: Role) -> bool:
        return self.role >= role

    def need(self, role: Role) -> None:
        """Forbidden unless the caller has ``role``."""
        if not self.may(role):
            raise Forbidden(
                f"{self.kind} {self.actor!r} has the {self.role.name} role; this needs {role.name}"
            )

    def may_see(self, prompt_name: str) -> bool:
        """Whether the prompt's name falls within the caller's prefixes (none: all)."""
        return not self.prefixes or prompt_name.startswith(self.prefixes)

    @property
    def name(self) -> str:  # as a Principal's (domain/access.py Reach)
        return self.actor

    @property
    def limited(self) -> bool:
        return bool(self.prefixes)

    @property
    def may_move_protected(self) -> bool:
        """Moving protected labels, changing which are protected, deciding deploy requests."""
        return self.may(Role.admin)


@functools.lru_cache(maxsize=4096)
def _caller_of(principal: Principal) -> Caller:
    return Caller(principal.name, principal.role, principal.kind, principal.prefixes)


SYSTEM = Caller.local()
