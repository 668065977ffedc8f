"""The client's public surface: every method and keyword of `Client` as written in
public_api.txt, and `AsyncClient` the same with ``await``.

Splitting the client into modules must not move a method or a keyword; adding one is a
deliberate change to that file. Regenerate it with: .venv/bin/python -m tests.client.test_public_api
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from promptdeck.client import AsyncClient, Client

LISTING = Path(__file__).with_name("public_api.txt")
# Kept under their async names on AsyncClient (the rest is the same name on both).
ASYNC_NAMES = {"__enter__": "__aenter__", "__exit__": "__aexit__", "close": "aclose"}


def surface(cls: type) -> dict[str, str]:
    """Each public method or property (and the context manager's) -> its signature."""
    out: dict[str, str] = {}
    for name in sorted(dir(cls)):
        if name.startswith("_") and name not in ("__init__", *ASYNC_NAMES, *ASYNC_NAMES.values()):
            continue
        member = inspect.getattr_static(cls, name)
        if isinstance(member, property):
            out[name] = "property"
        elif callable(member):
            out[name] = str(inspect.signature(member))
    return out


def listing() -> str:
    return "".join(f"{name}{sig}\n" for name, sig in surface(Client).items())


def test_client_has_every_method_and_keyword_of_its_listing() -> None:
    assert listing() == LISTING.read_text()


def test_async_client_has_the_same_methods_and_keywords_as_client() -> None:
    blocking, asynchronous = surface(Client), surface(AsyncClient)
    renamed = {ASYNC_NAMES.get(name, name): sig for name, sig in blocking.items()}
    assert set(renamed) == set(asynchronous)
    for name, sig in renamed.items():
        # AsyncIterator, AsyncBaseTransport, AsyncClient: the same without "Async"
        assert re.sub(r"\bAsync(?=[A-Z])", "", asynchronous[name]) == sig, name
        if sig != "property":  # awaited, except what returns at once or iterates
            plain = name in ("__init__", "report", "follow_changes") or "Iterator[" in sig
            assert inspect.iscoroutinefunction(getattr(AsyncClient, name)) != plain, name


if __name__ == "__main__":
    LISTING.write_text(listing())
