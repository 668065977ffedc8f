"""Attributes and calls a Jinja template may use: the str methods below (each checked before
it builds), ``items``/``keys``/``values``/``get`` of an object, the attributes of ``loop``,
a namespace's, a cycler's and a group's, macros, ``caller`` and recursive loops. Anything
else is refused by the sandbox."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from string import Formatter
from typing import Any

from jinja2.filters import _GroupTuple
from jinja2.runtime import LoopContext, Macro, Undefined
from jinja2.sandbox import SandboxedFormatter, safe_range
from jinja2.utils import Cycler, Joiner, Namespace

from promptdeck import limits
from promptdeck.domain.templates.budget import current
from promptdeck.domain.templates.checks import (
    CASE_GROWTH,
    LINE_BREAKS,
    checked_join,
    count_any,
    counted,
    names,
    replaced_size,
    split_items,
    stripped,
    width,
)
from promptdeck.domain.templates.sizes import check_measure, measure, spec_size
from promptdeck.errors import RenderTooLarge


def _none(s: str, *args: Any, **kwargs: Any) -> None:
    current().tick()  # a search or a test: walks the text, builds nothing


def _case(s: str, *args: Any, **kwargs: Any) -> None:
    current().build(len(s) * CASE_GROWTH)


def _shorter(s: str, *args: Any, **kwargs: Any) -> None:
    current().build(len(s))


def _strip(s: str, chars: Any = None) -> None:
    stripped(s, chars)


def _padded(s: str, w: Any, fillchar: Any = " ") -> None:
    current().build(max(width(w), len(s)), "a padding")


def _zfill(s: str, w: Any) -> None:
    current().build(max(width(w), len(s)), "a padding")


def _expandtabs(s: str, tabsize: Any = 8) -> None:
    current().build(
        len(s) + (s.count("\t") + 1) * max(width(tabsize, "tab size"), 0), "a tab expansion"
    )


def _replace(s: str, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(old, str) and isinstance(new, str):
        current().build(replaced_size(s, old, new, width(count, "count")), "a replacement")


def _split(s: str, sep: Any = None, maxsplit: Any = -1) -> None:
    if sep is None or isinstance(sep, str):
        current().step(split_items(s, sep, width(maxsplit, "maxsplit")))
    current().build(len(s))


def _splitlines(s: str, keepends: Any = False) -> None:
    current().step(count_any(s, LINE_BREAKS) + 1)
    current().build(len(s))


CHECKS: dict[str, Callable[..., None]] = {
    **dict.fromkeys(
        names(
            "count endswith find index isalnum isalpha isascii isdecimal isdigit isidentifier "
            "islower isnumeric isprintable isspace istitle isupper rfind rindex startswith"
        ),
        _none,
    ),
    **dict.fromkeys(names("capitalize casefold lower swapcase title upper"), _case),
    **dict.fromkeys(names("removeprefix removesuffix partition rpartition"), _shorter),
    **dict.fromkeys(names("strip lstrip rstrip"), _strip),
    "center": _padded,
    "ljust": _padded,
    "rjust": _padded,
    "zfill": _zfill,
    "expandtabs": _expandtabs,
    "replace": _replace,
    "split": _split,
    "rsplit": _split,
    "splitlines": _splitlines,
}
STR_METHODS = frozenset({*CHECKS, "join", "format", "format_map"})


class CheckedFormatter(SandboxedFormatter):
    """``str.format``: each field's text measured before it is made, and the whole result
    against the cap."""

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self.size = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def _grow(self, n: int) -> None:
        current().build(n, "a format")
        self.size += n
        if self.size > limits.RENDER_MAX:
            raise RenderTooLarge(f"one value would be over {limits.RENDER_MAX} characters")

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion in ("r", "a"):
            self._grow(measure(value, "repr") * (5 if conversion == "a" else 1))
        elif conversion == "s":
            self._grow(measure(value))
        return Formatter.convert_field(self, value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        self._grow(spec_size(value, format_spec))
        return format(value, format_spec)


def str_method(env: Any, s: str, name: str) -> Callable[..., Any]:
    """The bound method ``s.name``, checked each time it is called."""
    if name in ("format", "format_map"):
        formatter = CheckedFormatter(env)

        def formatted(*args: Any, **kwargs: Any) -> str:
            if name != "format_map":
                return formatter.vformat(s, args, kwargs)
            if kwargs or len(args) != 1 or not isinstance(args[0], Mapping):
                raise TypeError("format_map takes one mapping")
            return formatter.vformat(s, (), args[0])

        return allow(formatted)
    if name == "join":
        return allow(lambda iterable: checked_join(s, iterable))
    check, method = CHECKS[name], getattr(s, name)

    def checked(*args: Any, **kwargs: Any) -> Any:
        check(s, *args, **kwargs)
        return method(*args, **kwargs)

    return allow(checked)


# --- globals ---------------------------------------------------------------------------------


def _range(*args: Any) -> range:
    out: range = safe_range(*args)  # the sandbox's own cap on one range
    current().step(len(out))
    return out


def _pairs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """A dict's or namespace's arguments, their items counted."""
    if args:
        source = args[0]
        if isinstance(source, (Mapping, list, tuple)):
            current().step(len(source))
        else:
            args = (counted(source), *args[1:])
    return args


def _dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    return dict(*_pairs(args, kwargs), **kwargs)


def _namespace(*args: Any, **kwargs: Any) -> Namespace:
    return Namespace(*_pairs(args, kwargs), **kwargs)


GLOBALS: dict[str, Callable[..., Any]] = {
    "range": _range,
    "dict": _dict,
    "namespace": _namespace,
    "cycler": Cycler,
    "joiner": Joiner,
}


ALLOWED = "_promptdeck_allowed"


def allow(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, ALLOWED, True)
    return function


for _global in GLOBALS.values():
    if isinstance(_global, types.FunctionType):
        allow(_global)
_CLASSES = (Cycler, Joiner)  # the globals that are classes: calling them makes one

LOOP_ATTRIBUTES = frozenset(
    names(
        "index index0 revindex revindex0 first last length depth depth0 previtem nextitem "
        "cycle changed"
    )
)
MAPPING_METHODS = frozenset({"items", "keys", "values", "get"})


def is_safe_attribute(obj: Any, attr: str) -> bool:
    if attr.startswith("_"):
        return False
    if isinstance(obj, dict):
        return attr in MAPPING_METHODS
    if isinstance(obj, LoopContext):
        return attr in LOOP_ATTRIBUTES
    if isinstance(obj, Cycler):
        return attr in ("next", "reset", "current")
    if isinstance(obj, _GroupTuple):
        return attr in ("grouper", "list")
    return isinstance(obj, Namespace)


def is_safe_call(obj: Any, args: tuple[Any, ...]) -> bool:
    """Whether a template may call ``obj``; ``loop.changed``'s values measured first."""
    if isinstance(obj, (Undefined, Macro, LoopContext, Joiner)):
        return True  # a macro's or loop's body counts its own steps; Undefined raises
    if getattr(obj, ALLOWED, False) or any(obj is c for c in _CLASSES):
        return True
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, LoopContext) and name in ("cycle", "changed"):
        if name == "changed":
            check_measure(args)
        return True
    if isinstance(owner, Cycler) and name in ("next", "reset"):
        return True
    return isinstance(owner, dict) and name in MAPPING_METHODS
