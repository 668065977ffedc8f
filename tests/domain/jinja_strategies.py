"""Jinja templates built from every construct the sandbox allows, for the generated bound
tests (tests/domain/test_template_bounds.py in-process, tests/hostile/test_template_attacks.py
through the app on both databases), and the check they share."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from typing import Any

from hypothesis import strategies as st

from promptdeck import limits
from promptdeck.domain import templates as t
from promptdeck.domain.templates import filters as allowed
from promptdeck.domain.templates.methods import STR_METHODS
from promptdeck.errors import RenderTooLarge, TemplateInvalid

VALUES: dict[str, Any] = {
    "v": [1, [2, [3, "x"]], "abc", 4.5, None, True, {"k": "v"}],
    "s": "Some text, with words - and (brackets)\nand lines.\tTabs too. é ß 😀",
    "n": 3,
    "d": {"a": 1, "b": "two", "c": [1, 2]},
    "i": 0,
    "x": "x",
    "big": "word, " * 5000,  # the API test posts these: under its 64 KiB body limit
    "many": list(range(1000)),
}
HUGE = [0, 1, 2, 3, 7, 40, 1000, 99999, 10**6, 999999999, 2**31, 2**63, 10**30, -1, -(10**9)]
NUMBERS = st.sampled_from(HUGE).map(str)
TEXTS = st.sampled_from(
    [
        *['"a"', '"ab cd"', '"x\\ny\\n"', '"é-ü ß(x)"', "s", '"x" * 1000', '"ab " * 100000'],
        *['"{}"', '"%s"', '"%05d"', '"{0}{0}"', '"\\t"', '""', "x"],
    ]
)
SEQUENCES = st.sampled_from(
    ["v", "[1, 2, 3]", "[s, s]", "d", "d.items()", "d.keys()", '["b", "a", "b"]', "[[1, 2], [3]]"]
)
NAMES = st.sampled_from(["n", "s", "v", "d", "ns.s", "ns.l", "i", "x", "big", "many"])
ATOMS = st.one_of(
    NUMBERS,
    TEXTS,
    SEQUENCES,
    NAMES,
    NUMBERS.map("range({})".format),
    NUMBERS.map('("ab " * {})'.format),
    NUMBERS.map('("\U0001f600" * {})'.format),
    NUMBERS.map("([s] * {})".format),
)

# Each allowed filter with the shapes of arguments it takes ({n} a number, {e} an expression).
FILTER_ARGS: dict[str, list[str]] = {
    "abs": [""],
    "batch": ["({n})", "({n}, {e})"],
    "capitalize": [""],
    "center": ["({n})"],
    "count": [""],
    "d": ["({e})"],
    "default": ["({e}, true)"],
    "dictsort": ["", "(reverse=true)"],
    "filesizeformat": ["", "(true)"],
    "first": [""],
    "float": ["", "({n})"],
    "format": ["({e})", "({e}, {e})"],
    "groupby": ["(0)", '("k")'],
    "indent": ["({n})", "({n}, true, true)", "({e})"],
    "int": ["", "(0, 16)"],
    "items": [""],
    "join": ["", "({e})", '(", ", attribute=0)'],
    "last": [""],
    "length": [""],
    "list": [""],
    "lower": [""],
    "map": ['("upper")', '("string")', '("center", {n})', "(attribute=0)"],
    "max": [""],
    "min": ["", "(attribute=0)"],
    "reject": ['("odd")', '("in", {e})'],
    "rejectattr": ['("real")'],
    "replace": ["({e}, {e})", '("", {e})', "({e}, {e}, {n})"],
    "reverse": [""],
    "round": ["", "({n})", '({n}, "floor")'],
    "select": ['("odd")', '("eq", {e})', '("lower")'],
    "selectattr": ['("k")'],
    "slice": ["({n})", "({n}, {e})"],
    "sort": ["", "(attribute=0)", "(reverse=true)"],
    "string": [""],
    "sum": ["", "(start={n})"],
    "title": [""],
    "tojson": ["", "({n})"],
    "trim": ["", "({e})"],
    "truncate": ["({n})", "({n}, true, {e})"],
    "unique": [""],
    "upper": [""],
    "wordcount": [""],
    "wordwrap": ["({n})", "({n}, true, {e})"],
}
COMPARISONS = {"eq", "equalto", "ne", "gt", "greaterthan", "ge", "lt", "lessthan", "le"}
TEST_ARGS: dict[str, str] = {
    name: "({n})" if name == "divisibleby" else "({e})"
    for name in allowed.TESTS
    if name in ("divisibleby", "in", "sameas", *COMPARISONS) or not name.isalpha()
}
METHOD_ARGS: dict[str, list[str]] = {
    "center": ["({n})", "({n}, {e})"],
    "ljust": ["({n})"],
    "rjust": ["({n})"],
    "zfill": ["({n})"],
    "expandtabs": ["({n})"],
    "replace": ["({e}, {e})", "({e}, {e}, {n})"],
    "split": ["()", "({e})", "({e}, {n})"],
    "rsplit": ["()", "({e}, {n})"],
    "join": ["({e})"],
    "format": ["({e})", "({e}, {e})"],
    "format_map": ["(d)"],
    "count": ["({e})"],
    "find": ["({e})"],
    "index": ["({e})"],
    "rfind": ["({e})"],
    "rindex": ["({e})"],
    "startswith": ["({e})"],
    "endswith": ["({e})"],
    "removeprefix": ["({e})"],
    "removesuffix": ["({e})"],
    "partition": ["({e})"],
    "rpartition": ["({e})"],
    "strip": ["()", "({e})"],
    "lstrip": ["()"],
    "rstrip": ["()"],
    "splitlines": ["()", "(true)"],
}
BINARY = ["+", "-", "*", "**", "%", "//", "/", "~", "==", "!=", "<", ">=", "in", "not in", "and"]


def _fill(shape: str, draw: st.DrawFn, expr: st.SearchStrategy[str]) -> str:
    while "{n}" in shape or "{e}" in shape:
        shape = shape.replace("{n}", draw(NUMBERS), 1) if "{n}" in shape else shape
        shape = shape.replace("{e}", draw(expr), 1) if "{e}" in shape else shape
    return shape


@st.composite
def _filtered(draw: st.DrawFn, expr: st.SearchStrategy[str]) -> str:
    name = draw(st.sampled_from(sorted(FILTER_ARGS)))
    shape = draw(st.sampled_from(FILTER_ARGS[name]))
    return f"({draw(expr)})|{name}{_fill(shape, draw, expr)}"


@st.composite
def _tested(draw: st.DrawFn, expr: st.SearchStrategy[str]) -> str:
    name = draw(st.sampled_from(sorted(n for n in allowed.TESTS if n.isalpha())))
    shape = TEST_ARGS.get(name, "")
    return f"(({draw(expr)}) is {name}{_fill(shape, draw, expr)})"


@st.composite
def _method(draw: st.DrawFn, expr: st.SearchStrategy[str]) -> str:
    name = draw(st.sampled_from(sorted(STR_METHODS)))
    shape = draw(st.sampled_from(METHOD_ARGS.get(name, ["()"])))
    return f"({draw(TEXTS | expr)}).{name}{_fill(shape, draw, expr)}"


@st.composite
def _global(draw: st.DrawFn, expr: st.SearchStrategy[str]) -> str:
    a, b = draw(expr), draw(expr)
    return draw(
        st.sampled_from(
            [
                f"range({draw(NUMBERS)})",
                f"range({draw(NUMBERS)}, {draw(NUMBERS)}, {draw(NUMBERS)})",
                f"dict(a={a}, b={b})",
                f"dict({draw(SEQUENCES)})",
                f"namespace(a={a}).a",
                f"cycler({a}, {b}).next()",
                f"joiner({a})()",
            ]
        )
    )


def expressions(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return ATOMS
    sub = expressions(depth - 1)
    return st.one_of(
        ATOMS,
        st.builds("({} {} {})".format, sub, st.sampled_from(BINARY), sub),
        _filtered(sub),
        _tested(sub),
        _method(sub),
        _global(sub),
        st.builds("({})[{}:{}]".format, sub, NUMBERS, NUMBERS),
        st.builds("({})[{}]".format, sub, NUMBERS | TEXTS),
        st.builds('"%0{}d{}" % ({}, {})'.format, NUMBERS, st.just("%s"), sub, sub),
        st.builds('"{{:>{}}}{{}}".format({}, {})'.format, NUMBERS, sub, sub),
        st.builds("(({}) if {} else ({}))".format, sub, sub, sub),
    )


EXPR = expressions(2)
LOOP_EXTRAS = st.sampled_from(
    ["", "{{ loop.index }}", "{{ loop.cycle(i, s) }}", "{{ loop.changed(i) }}", "{{ loop.length }}"]
)


def statements(depth: int) -> st.SearchStrategy[str]:
    out = EXPR.map("{{{{ {} }}}}".format)
    if depth == 0:
        return out
    body = st.lists(statements(depth - 1), min_size=1, max_size=3).map("".join)
    iterable = st.one_of(NUMBERS.map("range({})".format), SEQUENCES, TEXTS, EXPR)
    return st.one_of(
        out,
        st.builds("{{% for i in {} %}}{}{}{{% endfor %}}".format, iterable, LOOP_EXTRAS, body),
        st.builds("{{% for i in {} if {} %}}{}{{% endfor %}}".format, iterable, EXPR, body),
        st.builds("{{% if {} %}}{}{{% else %}}{}{{% endif %}}".format, EXPR, body, body),
        st.builds("{{% set x = {} %}}{}".format, EXPR, body),
        st.builds("{{% set ns.s = {} %}}{{% set ns.l = ns.l + [{}] %}}".format, EXPR, EXPR),
        st.just("{% set ns.s = ns.s ~ ns.s %}{% set ns.l = ns.l + ns.l %}"),
        st.builds("{{% set x %}}{}{{% endset %}}{{{{ x }}}}".format, body),
        st.builds("{{% filter upper %}}{}{{% endfilter %}}".format, body),
        st.builds("{{{{ m1({}, {}) }}}}".format, NUMBERS, EXPR),
        st.builds("{{% call(i) m3({}) %}}{}{{% endcall %}}".format, NUMBERS, body),
        st.builds(
            "{{% for i in {} recursive %}}{}{{% if i is sequence and i is not string %}}"
            "{{{{ loop(i) }}}}{{% endif %}}{{% endfor %}}".format,
            SEQUENCES,
            body,
        ),
    )


@st.composite
def templates(draw: st.DrawFn) -> str:
    """Nested macros that call each other with generated bodies, then statements."""
    body1, body2 = draw(statements(1)), draw(statements(1))
    macros = (
        "{% macro m1(n, t) %}" + body1 + "{% if n is number and n > 0 %}{{ m2(n - 1, t ~ t) }}"
        "{{ m2(n - 1, t) }}{% else %}{{ t }}{% endif %}{% endmacro %}"
        "{% macro m2(n, t) %}" + body2 + "{{ m1(n, t|upper) }}{% endmacro %}"
        "{% macro m3(n) %}{% for i in range(n) %}{{ caller(i) }}{% endfor %}{% endmacro %}"
    )
    prelude = '{% set ns = namespace(s="ab", l=[1]) %}'
    return prelude + macros + draw(statements(2))


def assert_bounded(template: str, values: dict[str, Any]) -> str:
    """Render; refused or not, the render's CPU and memory stay within the bounds."""
    tracemalloc.start()
    start = time.thread_time()
    try:
        outcome = "rendered"
        t.render("text", "jinja", template, values)
    except (RenderTooLarge, TemplateInvalid) as exc:
        outcome = type(exc).__name__
    finally:
        cpu = time.thread_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if cpu >= 1.5 * limits.RENDER_CPU_S:
        # tracemalloc's own cost (every allocation traced) is not the render's: measured over
        # once without it (a loaded run once saw 3.8 s traced for what takes 0.5 s untraced).
        start = time.thread_time()
        with contextlib.suppress(RenderTooLarge, TemplateInvalid):
            t.render("text", "jinja", template, values)
        cpu = time.thread_time() - start
    assert cpu < 1.5 * limits.RENDER_CPU_S, (cpu, template[:300])
    assert peak < limits.RENDER_MEMORY_MAX, (peak, template[:300])
    return outcome
