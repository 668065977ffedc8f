"""`promptdeck mcp`: the registry's prompts for AI assistants, over MCP's stdio transport
(docs/mcp.md)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.output import err_console


@connected(json=False)
def mcp(
    cli: Cli,
    label: Annotated[
        str,
        typer.Option(
            "--label",
            help="The label whose version is listed and rendered; a prompt without it: active.",
        ),
    ] = "production",
    http: Annotated[
        int | None,
        typer.Option(
            "--http",
            help="Serve the streamable HTTP transport at http://127.0.0.1:PORT/mcp instead of "
            "stdio (every caller acts with this process's key).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the registry's prompts over MCP on standard input and output (for Claude
    Desktop, editors, agents): prompts/list, prompts/get rendered by the server, list-changed
    notifications when a label moves, and tools to read history and diffs and to propose a
    deploy request."""
    try:
        import anyio

        from promptdeck.mcp_server import run
    except ImportError:
        err_console.print("promptdeck mcp needs the MCP SDK: pip install 'promptdeck[mcp]'")
        raise typer.Exit(2) from None
    logging.basicConfig(level=logging.WARNING)  # standard error: standard output is MCP's
    connection = (cli.url, cli.api_key, cli.actor, label)
    if http is None:
        anyio.run(run.serve, *connection)
    else:
        anyio.run(run.serve_http, *connection, "127.0.0.1", http)
