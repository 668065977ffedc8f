"""`promptdeck providers …`: the model providers evaluations call (admin to change). A key is
never an argument (it would sit in the shell's history and in `ps`): `--api-key-stdin` reads
it from standard input, or `--api-key-env` names the server's variable that holds it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.output import console
from promptdeck.schemas import ProviderOut

app = typer.Typer(
    help="Model providers: OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, LiteLLM…) that "
    "evaluations call. Listing needs the read role; adding and removing, admin.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

Name = Annotated[str, typer.Argument(help="The provider's name (a slug).", show_default=False)]
KEY_STDIN_MAX = 4097  # domain/providers.KEY_MAX, and one more to tell a longer one


def read_key() -> str:
    """The key on standard input: its first line (a pipe, a file or a paste)."""
    lines = sys.stdin.read(KEY_STDIN_MAX * 2).splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise typer.BadParameter("nothing on standard input", param_hint="--api-key-stdin")
    return key


def parse_price(text: str) -> tuple[str, dict[str, float]]:
    model, _, rest = text.rpartition("=")
    cost_in, _, cost_out = rest.partition("/")
    try:
        return model, {"input": float(cost_in), "output": float(cost_out)}
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: MODEL=INPUT/OUTPUT per million tokens, e.g. gpt-4o=2.5/10",
            param_hint="--price",
        ) from None


@app.command("add")
@connected
def add(
    cli: Cli,
    name: Name,
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url",
            help="Up to /v1 (calls go to BASE_URL/chat/completions).",
            show_default=False,
        ),
    ],
    model: Annotated[
        list[str],
        typer.Option("--model", "-m", help="A model it offers (repeat).", show_default=False),
    ],
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env",
            help="The server's environment variable that holds the key (…_API_KEY).",
            show_default=False,
        ),
    ] = None,
    api_key_stdin: Annotated[
        bool,
        typer.Option(
            "--api-key-stdin",
            help="Read the key from standard input; the server stores it sealed and never "
            "shows it again.",
        ),
    ] = False,
    price: Annotated[
        list[str] | None,
        typer.Option(
            "--price",
            help="MODEL=INPUT/OUTPUT: its cost per million tokens (repeat), for `cost`.",
            show_default=False,
        ),
    ] = None,
    retry_attempts: Annotated[
        int | None,
        typer.Option("--retry-attempts", help="Tries in all on 429 and 5xx (1 to 6; 3).", min=1),
    ] = None,
    total_timeout: Annotated[
        float | None,
        typer.Option("--total-timeout", help="Seconds for a whole call with its retries (180)."),
    ] = None,
) -> None:
    """Add a provider; its key from `--api-key-stdin` or `--api-key-env` (or none)."""
    if api_key_stdin and api_key_env:
        raise typer.BadParameter("give --api-key-stdin or --api-key-env, not both")
    key = read_key() if api_key_stdin else None
    prices = dict(parse_price(p) for p in price or [])
    timeouts = None if total_timeout is None else {"total_s": total_timeout}
    added = cli.client.add_provider(
        name,
        base_url,
        model,
        api_key=key,
        api_key_env=api_key_env,
        prices=prices or None,
        timeouts=timeouts,
        retry_attempts=retry_attempts,
    )
    cli.show(added, f"added provider {escape(added.name)} -> {escape(added.base_url)}")


def key_of(p: ProviderOut) -> str:
    if p.api_key == "stored":
        return "stored"
    return f"${p.api_key_env}" if p.api_key_env else "none"


@app.command("list")
@connected
def list_(cli: Cli) -> None:
    """Every provider: name, base URL, models, where its key comes from (never the key)."""
    cli.show(cli.client.list_providers(), show_providers)


def show_providers(items: list[ProviderOut]) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("NAME", "BASE URL", "MODELS", "KEY"):
        table.add_column(column)
    for p in items:
        table.add_row(escape(p.name), escape(p.base_url), escape(", ".join(p.models)), key_of(p))
    console.print(table)


@app.command("rm")
@connected
def rm(cli: Cli, name: Name) -> None:
    """Remove a provider (refused while evaluations name it: their results say who answered)."""
    cli.client.remove_provider(name)
    cli.show({"removed": name}, f"removed provider {escape(name)}")
