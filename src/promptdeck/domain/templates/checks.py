"""The checks the sandbox's filters, methods and operators share: a value's text measured
before it is made, items counted as steps, widths and counts checked before use, the cost
of a comparison checked before it runs."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from promptdeck import limits
from promptdeck.domain.templates.budget import current
from promptdeck.domain.templates.sizes import compare_cost, measure, number_size
from promptdeck.errors import RenderTooLarge, TemplateInvalid

CASE_GROWTH = 3  # "ß".upper() is "SS"; "ΐ".upper() is three characters
# What str.splitlines and textwrap split at; what \s and str.split() take for white space.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
TEXTWRAP_SPACE = "\t\n\x0b\x0c\r "
SPACES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
TITLE_BREAKS = SPACES + "-({[<"
SCAN_MAX = 10 * limits.RENDER_MAX  # ~10 ms of memchr or memcmp


def text(value: Any) -> str:
    """``str(value)``, measured first (a list's text can be far longer than the list)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        current().build(number_size(value), "the text of a value")
    elif value is None:
        current().build(4)
    else:
        current().build(measure(value), "the text of a value")
    return str(value)


def names(words: str) -> list[str]:
    return words.split()


def count_any(s: str, chars: str) -> int:
    return sum(s.count(c) for c in chars) if s else 0


def width(value: Any, what: str = "width") -> int:
    if not isinstance(value, int):
        raise TemplateInvalid(f"the {what} must be a whole number")
    return value


def items(value: Any) -> list[Any]:
    """The items of an iterable as a list, each counted as a step."""
    budget = current()
    if isinstance(value, (list, tuple)):
        budget.step(len(value))
        return list(value)
    out = []
    for item in value:
        budget.step()
        out.append(item)
    return out


def counted(value: Iterable[Any]) -> Iterator[Any]:
    """Yields the items of ``value``, each counted as a step when taken."""
    budget = current()
    for item in value:
        budget.step()
        yield item


def checked_join(sep: Any, value: Iterable[Any]) -> str:
    between = text(sep)
    texts = [text(item) for item in items(value)]
    current().build(sum(map(len, texts)) + len(between) * max(len(texts) - 1, 0), "a join")
    return between.join(texts)


def replaced_size(s: str, old: str, new: str, count: int | None) -> int:
    found = len(s) + 1 if not old else s.count(old)
    if count is not None and count >= 0:
        found = min(found, count)
    return len(s) + found * max(len(new) - len(old), 0)


def split_items(s: str, sep: str | None, maxsplit: int) -> int:
    found = count_any(s, SPACES) if sep is None else (s.count(sep) if sep else 0)
    return (found if maxsplit < 0 else min(found, maxsplit)) + 1


def number_text(value: Any) -> Any:
    if isinstance(value, str) and len(value) > limits.RENDER_NUMBER_TEXT_MAX:
        raise RenderTooLarge(
            f"a number written with more than {limits.RENDER_NUMBER_TEXT_MAX} characters"
        )
    return value


COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gteq": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}


def scan(cost: int, what: str) -> None:
    """One operation that walks ``cost`` characters or items in C, at most SCAN_MAX."""
    if cost > SCAN_MAX:
        raise RenderTooLarge(f"{what} would walk more than {SCAN_MAX} characters or items")
    current().tick()


def compare(op: str, left: Any, right: Any) -> Any:
    """One comparison of a template (``==``, ``<``, ``in``…), its cost checked first."""
    scan(compare_cost(op, left, right), "one comparison")
    return COMPARE[op](left, right)


def stripped(s: str, chars: Any) -> None:
    """``strip(chars)`` looks each character up in ``chars``: 7 s for a 200,000-character
    text and a 2,000,000-character set."""
    current().build(len(s))
    if isinstance(chars, str):
        scan(len(s) * len(chars), "a strip")
