"""What a command that talks to a server gets: `Cli`, made from the shared options.

A command is written with its own arguments only, and `Cli` as its first parameter:

    @app.command("show")
    @connected
    def show(cli: Cli, name: Name) -> None:
        cli.show(cli.client.get_prompt(name), show_prompt)

`connected` gives the command the shared options of options.py (``--url``, ``--api-key``,
``--actor``, ``--json``) and passes their values in as one `Cli`, as Click's ``pass_obj``
passes ``ctx.obj``. They are options of each command, not of a group callback, because Click
parses a group's options only before the subcommand's name, and people type them after it
(``promptdeck versions list NAME --url X --json``); declared here once, they read the same in
every command's ``--help``.
"""

from __future__ import annotations

import functools
import getpass
import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

from promptdeck.cli.options import DEFAULT_URL, Actor, ApiKey, Json, Url
from promptdeck.cli.output import api_errors, console, print_json
from promptdeck.client import Client

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_KW = inspect.Parameter.KEYWORD_ONLY
# In the order --help lists them (after the command's own options).
SHARED = {
    "as_json": inspect.Parameter("as_json", _KW, default=False, annotation=Json),
    "url": inspect.Parameter("url", _KW, default=DEFAULT_URL, annotation=Url),
    "api_key": inspect.Parameter("api_key", _KW, default=None, annotation=ApiKey),
    "actor": inspect.Parameter("actor", _KW, default=None, annotation=Actor),
}


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


class Cli:
    """The shared options' values: the server's client (made on first use, closed when the
    command ends) and whether to answer in JSON."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        actor: str | None = None,
        as_json: bool = False,
    ) -> None:
        self.url = url
        self.api_key = api_key
        self.actor = actor
        self.as_json = as_json
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            actor = self.actor or login_name()
            self._client = Client(self.url, self.api_key, actor=actor, timeout=30.0)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def show(self, value: T, table: Callable[[T], object] | str) -> None:
        """``value`` as JSON with ``--json``; else ``table(value)``, or the sentence given."""
        if self.as_json:
            print_json(value)
        elif isinstance(table, str):
            console.print(table)
        else:
            table(value)


@overload
def connected(fn: Callable[Concatenate[Cli, P], R], /) -> Callable[P, R]: ...


@overload
def connected(
    *, json: bool = True, actor: bool = True
) -> Callable[[Callable[Concatenate[Cli, P], R]], Callable[P, R]]: ...


def connected(fn: Any = None, /, *, json: bool = True, actor: bool = True) -> Any:
    """Give a command the shared options and pass it their `Cli`; an error from the server
    exits 1 with its title and detail. ``json=False``: the command has no JSON to print;
    ``actor=False``: its own ``--actor`` means something else."""
    shared = [p for n, p in SHARED.items() if (json or n != "as_json") and (actor or n != "actor")]

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
        clash = {p.name for p in own} & {p.name for p in shared}
        if clash:
            raise TypeError(f"{command.__name__}: {', '.join(sorted(clash))} is a shared option")

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> R:
            cli = Cli(**{p.name: kwargs.pop(p.name) for p in shared})
            try:
                with api_errors():
                    return command(cli, *args, **kwargs)
            finally:
                cli.close()

        # What Typer reads: the command's own parameters, then the shared ones.
        params = [*own, *shared]
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run

    return decorate if fn is None else decorate(fn)
