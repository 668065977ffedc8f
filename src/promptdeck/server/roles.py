"""What a route needs, declared in its signature: ``caller: Reader`` (``Writer``, ``Admin``…)
is a dependency that gives the route the ``Caller`` (domain/caller.py) or refuses the
request: 401 without credentials, 403 below the role. As Polar's
``Annotated[AuthSubject, Depends(Authenticator(required_scopes=…))]``. The two answers served
below FastAPI call a ``Need`` themselves: the hot path (server/active.py ``HOT_NEED``) and
``GET /metrics`` (server/observe.py).

The gate (server/security.py) only finds the principal. What a request's body decides (a
retention limit needs admin; a key kept to prompt prefixes creates only within them) is the
core's to decide, from the Caller and the command. Every route declares one of these; a test
walks the app's routes to hold it (tests/access/test_route_roles.py)."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from promptdeck.domain.access import Role
from promptdeck.domain.caller import Caller
from promptdeck.errors import Forbidden, Unauthorized
from promptdeck.limits import ACTOR_MAX
from promptdeck.server.deps import CheckedText, principal_of

Scope = MutableMapping[str, Any]


def caller_of(scope: Scope) -> Caller | None:
    """The request's caller as the gate found it; None: nobody signed in."""
    principal = principal_of(scope)
    return None if principal.kind == "nobody" else Caller.of(principal)


@dataclass(frozen=True)
class Need:
    """A route's need: a role, and whether it serves only callers who may see every prompt
    (a webhook hears every prompt's events)."""

    role: Role
    every_prompt: bool = False

    async def __call__(self, request: Request) -> Caller:
        return self.caller(request.scope)

    def caller(self, scope: Scope, actor: str | None = None) -> Caller:
        """The request's caller, or Unauthorized (no credentials) or Forbidden (too low)."""
        principal = principal_of(scope)
        if principal.kind == "nobody":
            raise Unauthorized("this server needs a key: send 'Authorization: Bearer <key>'")
        caller = Caller.of(principal, actor)
        caller.need(self.role)
        if self.every_prompt and caller.limited:
            raise Forbidden(
                f"{caller.kind} {caller.actor!r} is limited to some prompts; "
                "webhooks need an admin without prompt prefixes"
            )
        return caller


@dataclass(frozen=True)
class Anyone:
    """The need of a public route (probes, the sign-in page): the caller if any."""

    async def __call__(self, request: Request) -> Caller | None:
        return caller_of(request.scope)


ActorHeader = Annotated[
    str | None,
    Header(
        max_length=ACTOR_MAX,
        description="On an open server (no keys or users): who makes the change, recorded "
        "in events. With keys, events name the key or person and this header is ignored.",
    ),
    CheckedText,
]


@dataclass(frozen=True)
class Acting:
    """The need of a route that records who acts: on an open server, ``X-Actor`` names them."""

    need: Need

    async def __call__(self, request: Request, x_actor: ActorHeader = None) -> Caller:
        return self.need.caller(request.scope, x_actor)


def needs(role: Role, *, acting: bool = False, every_prompt: bool = False) -> Any:
    """``Depends`` for a route needing ``role``; ``acting``: it records who acts."""
    need = Need(role, every_prompt)
    return Depends(Acting(need) if acting else need)


Public = Annotated[Caller | None, Depends(Anyone())]  # anyone; None when nobody signed in
READ = Need(Role.read)  # also what the hot path and /metrics ask, below FastAPI
Reader = Annotated[Caller, Depends(READ)]
Writer = Annotated[Caller, needs(Role.write)]
Admin = Annotated[Caller, needs(Role.admin)]
# The API's changes that record who acts: X-Actor names them on an open server (the UI's forms
# name them in the form: server/ui/view.py ``acting``).
ActingWriter = Annotated[Caller, needs(Role.write, acting=True)]
ActingAdmin = Annotated[Caller, needs(Role.admin, acting=True)]
