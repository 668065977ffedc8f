"""Upper bounds, computed before anything is built, of what a template operation would make
or walk: the length of a value's text (``str``, ``repr``, JSON), the cost of comparing
values, the length of a ``%`` or ``str.format`` result. A value is walked at most up to
the cap (then it is refused), so measuring costs no more than the cap."""

from __future__ import annotations

import math
import re
import types
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any, Literal

from jinja2.runtime import LoopContext, Macro, Undefined
from jinja2.utils import Cycler, Joiner, Namespace

from promptdeck import limits
from promptdeck.domain.templates.budget import current
from promptdeck.errors import RenderTooLarge, TemplateInvalid

Mode = Literal["weight", "str", "repr", "json"]
SCALARS = (str, int, float, type(None))
FLOAT_TEXT_MAX = 24  # len(repr(-1.7976931348623157e308))
OPAQUE = 120  # the repr of a loop, a macro, a generator, a function: a short fixed form
_OPAQUE_TYPES = (
    LoopContext,
    Macro,
    Cycler,
    Joiner,
    types.GeneratorType,
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    range,
)
_VIEWS: tuple[Any, ...] = (type({}.keys()), type({}.values()), type({}.items()))
_END = object()
_DEFAULT_REPR: Any = object.__repr__  # `<X object at 0x…>`: short


def int_bits(value: int) -> int:
    return abs(value).bit_length()


def check_int_bits(bits: int) -> None:
    if bits > limits.RENDER_INT_BITS_MAX:
        raise RenderTooLarge(f"a number would have more than {limits.RENDER_INT_BITS_MAX} bits")


def _digits(value: int) -> int:
    return int_bits(value) * 30103 // 100000 + 2  # log10(2) < 0.30103, plus the sign


def _string(value: str, mode: Mode, top: bool) -> int:
    if mode == "weight" or (mode == "str" and top):
        return len(value)
    if mode == "json":  # \uXXXX for non-ASCII (twice for astral), and < > & ' escaped
        return (6 if value.isascii() else 12) * len(value) + 2
    return (2 if value.isprintable() else 10) * len(value) + 2  # \U0001xxxx at worst


def measure(
    value: Any, mode: Mode = "str", *, indent: int = 0, cap: int = limits.RENDER_MAX
) -> int:
    """An upper bound of the length of ``str(value)`` (``repr``, or the ``tojson`` text with
    ``indent``) that also bounds the work of walking or comparing it (``weight``); past
    ``cap`` it stops and returns what it has, over the cap. Walks with one iterator per
    level, so it holds no copy of what it walks."""
    if isinstance(value, str):
        return _string(value, mode, True)
    budget = current()
    total = walked = 0
    stack: list[Iterator[Any]] = [iter((value,))]
    while stack:
        item: Any = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        depth = len(stack)
        if isinstance(item, str):
            total += _string(item, mode, depth == 1)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += _digits(item)
        elif isinstance(item, float):
            total += FLOAT_TEXT_MAX
        elif isinstance(item, Undefined):
            total += 16
        elif isinstance(item, (list, tuple, dict, Namespace, *_VIEWS)):
            if isinstance(item, Namespace):
                item = object.__getattribute__(item, "_Namespace__attrs")
                total += 14
            elif isinstance(item, _VIEWS):
                item = item.mapping
                total += 14
            children: Iterator[Any]
            if isinstance(item, Mapping):  # a dict, or a view's read-only mapping
                size, children = 2 * len(item), chain(item.keys(), item.values())
            else:
                size, children = len(item), iter(item)
            # brackets, separators; in JSON with an indent, a line and its indentation each
            total += 2 + 2 * size + (size + 1) * (1 + indent * depth)
            stack.append(children)
        elif isinstance(item, _OPAQUE_TYPES) or type(item).__repr__ is _DEFAULT_REPR:
            total += OPAQUE
        else:
            raise TemplateInvalid(
                f"a {type(item).__name__} cannot be used in a template "
                "(values are JSON: text, numbers, booleans, null, lists and objects)"
            )
        if total > cap:
            return total
        walked += 1
        if not walked & 4095:
            budget.tick()
    return total


def check_measure(value: Any, mode: Mode = "weight") -> int:
    """``measure`` within the cap, else refused."""
    size = measure(value, mode)
    if size > limits.RENDER_MAX:
        raise RenderTooLarge(f"one value would be over {limits.RENDER_MAX} characters")
    return size


def _weight(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    return 1 if isinstance(value, SCALARS) else check_measure(value)


def compare_cost(op: str, left: Any, right: Any) -> int:
    """What comparing two values, or looking for one in the other, may walk."""
    if op in ("in", "notin"):
        if isinstance(right, str):
            return len(right) + _weight(left)  # a substring search
        if isinstance(right, (dict, type({}.keys()), type({}.items()))):
            return _weight(left)  # a hash and an equality
        if isinstance(right, (list, tuple, type({}.values()))):
            return len(right) * (_weight(left) + 1)  # an equality with each item
        return _weight(left) + check_measure(right)
    if isinstance(left, SCALARS) or isinstance(right, SCALARS):
        return 1  # a number or a text against anything: at most the shorter text, in C
    return check_measure(left) + check_measure(right)


# --- printf-style (``%`` and the ``format`` filter) ------------------------------------------

_PRINTF = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[-#0 +]*)(?P<width>\*|\d+)?"
    r"(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<kind>.?)",
    re.DOTALL,
)
_NUMBER_KINDS = "diouxX"
_FLOAT_KINDS = "eEfFgG"


def _number(digits: str | None, what: str) -> int:
    if not digits:
        return 0
    if len(digits) > 9 or int(digits) > limits.RENDER_MAX:
        raise RenderTooLarge(f"a format {what} over {limits.RENDER_MAX}")
    return int(digits)


def number_size(value: int | float, kind: str = "", precision: int | None = None) -> int:
    """The length of a number written with a format type (``d``, ``x``, ``f``, ``e``…; ``""``
    is ``str``), sign and prefix included, grouping not."""
    if kind in ("f", "F", "%"):  # every digit of the integer part, then the decimals
        whole = abs(value) if isinstance(value, int) else _whole(value)
        return _digits(whole) + (6 if precision is None else precision) + 4
    if kind in ("e", "E", "g", "G") or isinstance(value, float):
        return (6 if precision is None else precision) + FLOAT_TEXT_MAX
    bits = int_bits(value)
    digits = {"b": bits, "o": bits // 3 + 1, "x": bits // 4 + 1, "X": bits // 4 + 1, "c": 1}
    return max(digits.get(kind, _digits(value)), precision or 0) + 3


def _whole(value: float) -> int:
    return int(abs(value)) if math.isfinite(value) else 0


def _field(value: Any, kind: str, precision: int | None) -> int:
    if kind == "s":
        size = measure(value)
        return size if precision is None else min(size, precision)
    if kind in "ra":
        return measure(value, "repr") * (5 if kind == "a" else 1)
    if kind == "c":
        return 1
    if isinstance(value, (int, float)) and kind in _NUMBER_KINDS + _FLOAT_KINDS:
        if kind not in _NUMBER_KINDS:
            return number_size(value, kind, precision)
        whole = int(value) if isinstance(value, float) and math.isfinite(value) else value
        return number_size(whole, "d" if kind in "diu" else kind, precision)
    return 0  # Python refuses the conversion


def printf_size(fmt: str, args: Any) -> int:
    """The length of ``fmt % args`` at most; ``*`` widths are refused."""
    positional = list(args) if isinstance(args, tuple) else [args]
    mapping = args if isinstance(args, Mapping) else None
    size, index = len(fmt), 0
    for match in _PRINTF.finditer(fmt):
        kind = match["kind"]
        if kind == "%":
            continue
        if match["width"] == "*" or match["precision"] == "*":
            raise TemplateInvalid("a % format with a * width or precision is not allowed")
        width = _number(match["width"], "width")
        precision = None if match["precision"] is None else _number(match["precision"], "precision")
        if match["key"] is not None:
            value = mapping.get(match["key"]) if mapping is not None else None
        else:
            value = positional[index] if index < len(positional) else None
            index += 1
        size += max(width, _field(value, kind, precision))
        if size > limits.RENDER_MAX:
            break
    return size


# --- str.format ------------------------------------------------------------------------------

_SPEC = re.compile(
    r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?0?(?P<width>\d+)?"
    r"(?P<grouping>[,_])?(?:\.(?P<precision>\d+))?(?P<kind>[a-zA-Z%])?",
    re.DOTALL,
)


def spec_size(value: Any, spec: str) -> int:
    """The length of ``format(value, spec)`` at most."""
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise TemplateInvalid(f"the format spec {spec[:40]!r} is not understood")
    width = _number(match["width"], "width")
    precision = None if match["precision"] is None else _number(match["precision"], "precision")
    kind = match["kind"] or ""
    if isinstance(value, str):
        body = len(value) if precision is None else min(len(value), precision)
    elif isinstance(value, (int, float)):
        body = number_size(value, "d" if kind == "n" else kind, precision)
        if match["grouping"] or kind == "n":
            body = body * 4 // 3 + 1
    else:
        body = measure(value)
    return max(width, body)
