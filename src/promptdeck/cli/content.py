"""Where prompt text comes from: --file (or - for standard input), --content, $EDITOR."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import click
import typer

FileOpt = Annotated[
    str | None,
    typer.Option(
        "--file", "-f", help="Read the content from FILE ('-': standard input).", show_default=False
    ),
]
ContentOpt = Annotated[
    str | None, typer.Option("--content", "-c", help="The content itself.", show_default=False)
]
EditorOpt = Annotated[bool, typer.Option("--editor", "-e", help="Write the content in $EDITOR.")]


def from_file(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot read {path}: {exc.strerror}", param_hint="--file"
        ) from exc


def stdin_is_piped() -> bool:
    return not sys.stdin.isatty()


def from_editor(initial: str) -> str:
    edited = click.edit(initial, extension=".md", require_save=False)
    if edited is None:
        return initial
    # click (and most editors) end the file with a newline: do not count that as an edit.
    if not initial.endswith("\n") and edited.endswith("\n"):
        edited = edited[:-1]
    return edited


def read_content(
    file: str | None, content: str | None, editor: bool, *, initial: str = ""
) -> str | None:
    """The content given by the flags, or None when none was given."""
    if file is not None and content is not None:
        raise typer.BadParameter("give --file or --content, not both")
    if file is not None:
        return from_file(file)
    if content is not None:
        return content
    if editor:
        return from_editor(initial)
    return None
