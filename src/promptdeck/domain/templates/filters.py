"""The filters and tests a Jinja template may use (docs/api.md, "Templates: what Jinja may
do"). Each is Jinja's own, called only after a check of what it would build or walk: widths
and counts against the cap, items counted as steps, values measured. A filter or test not
in these tables is refused when the template is checked."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jinja2 import filters as jf
from jinja2 import pass_context, pass_environment, pass_eval_context
from jinja2 import tests as jt
from jinja2.runtime import Context

from promptdeck.domain.templates.budget import current
from promptdeck.domain.templates.checks import (
    CASE_GROWTH,
    LINE_BREAKS,
    TEXTWRAP_SPACE,
    TITLE_BREAKS,
    checked_join,
    compare,
    count_any,
    counted,
    items,
    names,
    number_text,
    replaced_size,
    stripped,
    text,
    width,
)
from promptdeck.domain.templates.sizes import (
    check_int_bits,
    check_measure,
    int_bits,
    measure,
    printf_size,
)
from promptdeck.errors import TemplateInvalid

_WORD = re.compile(r"\w+")
_NOT_WORD = re.compile(r"\W")


def numbers_only(value: Any) -> Any:
    if not isinstance(value, (int, float)):
        raise TemplateInvalid("sum adds numbers only")
    return value


def _case(convert: Callable[[str], str]) -> Callable[[Any], str]:
    def one(s: Any) -> str:
        s = text(s)
        current().build(len(s) * CASE_GROWTH)
        return convert(s)

    return one


def _title(s: Any) -> str:
    s = text(s)
    current().step(2 * count_any(s, TITLE_BREAKS) + 1)  # Jinja titles word by word
    current().build(len(s) * CASE_GROWTH)
    return jf.do_title(s)


def _center(value: Any, w: Any = 80) -> str:
    s = text(value)
    current().build(max(width(w), len(s)), "a padding")
    return s.center(w)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    fmt = text(value)
    current().build(printf_size(fmt, kwargs or args), "a format")
    return jf.do_format(fmt, *args, **kwargs)


def _indent(s: Any, w: Any = 4, first: bool = False, blank: bool = False) -> str:
    s = text(s)
    if isinstance(w, str):
        indention = w
    else:
        current().build(width(w), "an indentation")
        indention = " " * w
    lines = count_any(s, LINE_BREAKS) + 2
    current().step(lines)
    current().build(len(s) + lines * (len(indention) + 1), "an indentation")
    return jf.do_indent(s, indention, first, blank)


def _int(value: Any, default: int = 0, base: int = 10) -> int:
    out = jf.do_int(number_text(value), default, base)
    check_int_bits(int_bits(out))
    return out


def _float(value: Any, default: float = 0.0) -> float:
    return jf.do_float(number_text(value), default)


@pass_environment
def _join(env: Any, value: Any, d: Any = "", attribute: Any = None) -> str:
    if attribute is not None:
        value = map(jf.make_attrgetter(env, attribute), counted(value))
    return checked_join(d, value)


def _replace(s: Any, old: Any, new: Any, count: Any = None) -> str:
    s, old, new = text(s), text(old), text(new)
    if count is not None:
        width(count, "count")
    current().build(replaced_size(s, old, new, count), "a replacement")
    replaced: str = s.replace(old, new, -1 if count is None else count)
    return replaced


def _reverse(value: Any) -> Any:
    if isinstance(value, str):
        current().build(len(value))
        return value[::-1]
    try:
        return reversed(value)
    except TypeError:
        return items(value)[::-1]


def _round(value: Any, precision: Any = 0, method: Any = "common") -> float:
    if abs(width(precision, "precision")) > 400:
        raise TemplateInvalid("round takes a precision between -400 and 400")
    return jf.do_round(value, precision, method)


def _sum(env: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    values = items(iterable)
    if attribute is not None:
        values = [jf.make_attrgetter(env, attribute)(v) for v in values]
    total = numbers_only(start)
    for v in values:
        check_int_bits(max(_bits(total), _bits(numbers_only(v))) + 1)
        total += v
    return total


def _bits(value: Any) -> int:
    return int_bits(value) if isinstance(value, int) else 0


def _string(value: Any) -> str:
    return text(value)


def _trim(value: Any, chars: Any = None) -> str:
    s = text(value)
    stripped(s, chars)
    return s.strip(chars)


@pass_environment
def _truncate(
    env: Any,
    s: Any,
    length: Any = 255,
    killwords: bool = False,
    end: Any = "...",
    leeway: Any = None,
) -> str:
    s, end = text(s), text(end)
    width(length, "length")
    if length < len(end):
        raise TemplateInvalid(f"truncate: the length must be at least {len(end)} (the end's)")
    current().build(len(s) + len(end))
    return jf.do_truncate(env, s, length, killwords, end, leeway)


def _wordcount(s: Any) -> int:
    """Jinja's count of words (runs of word characters), made 64k characters at a time (cut
    between words) so the list of words found is never long."""
    s = text(s)
    budget, n, start = current(), 0, 0
    while start < len(s):
        cut = _NOT_WORD.search(s, min(start + 65536, len(s)))
        end = len(s) if cut is None else cut.start() + 1
        n += len(_WORD.findall(s, start, end))
        start = end
        budget.tick()
    return n


@pass_environment
def _wordwrap(
    env: Any,
    s: Any,
    w: Any = 79,
    break_long_words: bool = True,
    wrapstring: Any = None,
    break_on_hyphens: bool = True,
) -> str:
    s = text(s)
    sep = env.newline_sequence if wrapstring is None else text(wrapstring)
    if width(w) < 1:
        raise TemplateInvalid("wordwrap takes a width of at least 1")
    # textwrap splits at white space and hyphens, and cuts words longer than the width.
    pieces = 2 * (count_any(s, TEXTWRAP_SPACE) + s.count("-")) + 2 + len(s) // w
    current().step(pieces)
    current().build(len(s) + pieces * len(sep), "a word wrap")
    return jf.do_wordwrap(env, s, w, break_long_words, sep, break_on_hyphens)


@pass_eval_context
def _tojson(eval_ctx: Any, value: Any, indent: Any = None) -> str:
    if indent is not None and not 0 <= width(indent, "indent") <= 16:
        raise TemplateInvalid("tojson takes an indent between 0 and 16")
    current().build(measure(value, "json", indent=indent or 0), "a JSON text")
    return str(jf.do_tojson(eval_ctx, value, indent))


def _batch(value: Any, linecount: Any, fill_with: Any = None) -> Iterator[list[Any]]:
    if width(linecount, "count") < 1:
        raise TemplateInvalid("batch takes a count of at least 1")
    if fill_with is not None:
        current().step(linecount)  # the last batch is filled up to the count
    return jf.do_batch(counted(value), linecount, fill_with)


def _slice(value: Any, slices: Any, fill_with: Any = None) -> Iterator[list[Any]]:
    if width(slices, "count") < 1:
        raise TemplateInvalid("slice takes a count of at least 1")
    current().step(slices)  # Jinja walks every slice
    return jf.sync_do_slice(items(value), slices, fill_with)


def _sorting(
    run: Callable[..., Any],
) -> Callable[..., Any]:
    """Filters that compare items (sort, unique, min, max, groupby): the items counted,
    and measured, since comparing them walks them; case-folded copies are built."""

    @pass_environment
    def one(env: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        listed = items(value)
        current().build(check_measure(listed))
        return run(env, listed, *args, **kwargs)

    return one


@pass_environment
def _dictsort(env: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
    if not isinstance(value, Mapping):
        raise TemplateInvalid("dictsort sorts a mapping")
    current().step(len(value))
    current().build(check_measure(value))
    return jf.do_dictsort(value, *args, **kwargs)


def _lazy(run: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
    """map, select, reject, selectattr, rejectattr: each item taken is a step."""

    @pass_context
    def one(context: Context, value: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        out: Iterator[Any] = run(context, counted(value), *args, **kwargs)
        return out

    return one


def _list(value: Any) -> list[Any]:
    if isinstance(value, str):
        current().step(len(value))
        return list(value)
    return items(value)


FILTERS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "batch": _batch,
    "capitalize": _case(str.capitalize),
    "center": _center,
    "count": len,
    "d": jf.do_default,
    "default": jf.do_default,
    "dictsort": _dictsort,
    "filesizeformat": jf.do_filesizeformat,
    "first": jf.sync_do_first,
    "float": _float,
    "format": _format,
    "groupby": _sorting(jf.sync_do_groupby),
    "indent": _indent,
    "int": _int,
    "items": jf.do_items,
    "join": _join,
    "last": jf.do_last,
    "length": len,
    "list": _list,
    "lower": _case(str.lower),
    "map": _lazy(jf.sync_do_map),
    "max": _sorting(jf.do_max),
    "min": _sorting(jf.do_min),
    "reject": _lazy(jf.sync_do_reject),
    "rejectattr": _lazy(jf.sync_do_rejectattr),
    "replace": _replace,
    "reverse": _reverse,
    "round": _round,
    "select": _lazy(jf.sync_do_select),
    "selectattr": _lazy(jf.sync_do_selectattr),
    "slice": _slice,
    "sort": _sorting(jf.do_sort),
    "string": _string,
    "sum": pass_environment(_sum),
    "title": _title,
    "tojson": _tojson,
    "trim": _trim,
    "truncate": _truncate,
    "unique": _sorting(jf.sync_do_unique),
    "upper": _case(str.upper),
    "wordcount": _wordcount,
    "wordwrap": _wordwrap,
}


# --- tests ---------------------------------------------------------------------------------


def _comparing(op: str) -> Callable[[Any, Any], Any]:
    def one(value: Any, other: Any) -> Any:
        return compare(op, value, other)

    return one


_JINJA_TESTS: dict[str, Callable[..., Any]] = jt.TESTS  # type: ignore[assignment]
TESTS: dict[str, Callable[..., Any]] = {
    **{
        name: _JINJA_TESTS[name]
        for name in names(
            "odd even divisibleby defined undefined filter test none boolean false true "
            "integer float string mapping number sequence iterable callable sameas escaped"
        )
    },
    "lower": lambda value: text(value).islower(),
    "upper": lambda value: text(value).isupper(),
    "in": _comparing("in"),
    **{name: _comparing("eq") for name in ("==", "eq", "equalto")},
    **{name: _comparing("ne") for name in ("!=", "ne")},
    **{name: _comparing("gt") for name in (">", "gt", "greaterthan")},
    **{name: _comparing("gteq") for name in (">=", "ge")},
    **{name: _comparing("lt") for name in ("<", "lt", "lessthan")},
    **{name: _comparing("lteq") for name in ("<=", "le")},
}
