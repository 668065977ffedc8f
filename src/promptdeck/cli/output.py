"""How commands talk to people and scripts: Rich output, JSON, times, exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console

from promptdeck.domain import timefmt
from promptdeck.errors import PromptdeckError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@contextmanager
def api_errors() -> Iterator[None]:
    try:
        yield
    except PromptdeckError as exc:
        fail(exc)


def fail(exc: PromptdeckError) -> None:
    where = f" (field: {exc.field})" if exc.field else ""
    status = f" [{exc.status}]" if exc.status else ""
    err_console.print(f"[bold red]Error{status}: {exc.title}[/]: {exc.detail}{where}")
    raise typer.Exit(1)


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(value), indent=2, ensure_ascii=False) + "\n")


def relative(when: datetime, now: datetime | None = None) -> str:
    """ "3 minutes ago" (domain/timefmt.py: the UI's formatter too)."""
    return timefmt.ago(when, now or datetime.now(UTC))


stamp = timefmt.stamp
