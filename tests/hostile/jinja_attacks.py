"""Jinja templates that took a server's CPU or memory (issue 22), one or more per class:
each was 24 to 120 bytes and, before the sandbox checked sizes before building, cost 1 to
20 s of CPU or 0.5 to 3 GB (several killed the process), or answered 5xx. Used by
tests/domain/test_template_bounds.py (CPU and memory of each render) and
tests/hostile/test_template_attacks.py (through the app, both databases)."""

from __future__ import annotations

BIG = '{% set a = "x" * 1000000 %}{% set b = a ~ "" %}'  # two equal texts, not the same object
TEN_A = "[" + ",".join("a" * 10) + "]"
TEN_B = "[" + ",".join("b" * 10) + "]"

# The few that render: within every bound, they are not refused. Counting a million words
# takes 0.3 s of CPU, more under tracemalloc on a busy machine: it may reach the CPU bound.
RENDER = {"truncate past the end", "astral texts kept"}
MAY_RENDER = {"wordcount of a long text"}
ATTACKS: dict[str, str] = {
    # widths, paddings and precisions that build a huge string in one step
    "format filter width": '{{ "%0999999999d"|format(1) }}',
    "format filter precision": '{{ "%.999999999f"|format(1.5) }}',
    "% width": '{{ "%0999999999d" % 1 }}',
    "% star width": '{{ "%*d" % (999999999, 1) }}',
    "% mapping width": '{{ "%(a)0999999999d" % {"a": 1} }}',
    "% of a list of repeated texts": '{{ "%s" % (["x" * 1999999] * 1000000) }}',
    "str.format width": '{{ "{:>999999999}".format(1) }}',
    "str.format nested width": '{{ "{:{w}}".format("a", w=999999999) }}',
    "str.format precision": '{{ "{0:.999999999f}".format(1.5) }}',
    "str.format repeated field": '{{ ("{0}" * 100000).format("x" * 1000) }}',
    "format_map width": '{{ "{a:>999999999}".format_map({"a": 1}) }}',
    "center width": '{{ "a"|center(999999999) }}',
    "indent width": '{{ ("a\n" * 1000)|indent(999999) }}',
    "indent first line": '{{ "x"|indent(999999999, true) }}',
    "wordwrap width 1": '{{ ("a " * 500000)|wordwrap(1) }}',
    "wordwrap wrapstring": '{{ ("a " * 1000)|wordwrap(1, wrapstring="x" * 100000) }}',
    "truncate past the end": '{{ "a"|truncate(999999999) }}',
    "str.ljust": '{{ "a".ljust(999999999) }}',
    "str.center": '{{ "a".center(999999999) }}',
    "str.zfill": '{{ "a".zfill(999999999)|length }}',
    "str.expandtabs": '{{ "a\tb".expandtabs(999999999)|length }}',
    "trim with a huge character set": '{{ ("ab" * 100000)|trim("c" * 1999998 ~ "ab") }}',
    "str.strip with a huge character set": '{{ ("ab" * 100000).strip("c" * 1999998 ~ "ab") }}',
    # joins, replacements, conversions of large values
    "join with a long separator": '{{ range(99999)|join("x" * 10000) }}',
    "replace that multiplies": '{{ ("ab" * 1000)|replace("", "x" * 1000) }}',
    "tojson of deep nesting": (
        "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}"
        "{% endfor %}{{ ns.x|tojson }}"
    ),
    "tojson of repeated references": (
        '{% set a = ["x" * 100000] %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}'
        "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{{ c|tojson }}"
    ),
    "printing a list of repeated texts": "{{ ([0] * 2000000)|string|length }}",
    "dict view of repeated texts": ('{% set s = "x" * 1000000 %}{{ dict(a=s, b=s, c=s).items() }}'),
    "int of a huge text": '{{ ("9" * 1999999)|int }}',
    "float of a huge text": '{{ ("9" * 1999999)|float }}',
    "int product past the bits": (
        '{% set n = ("9" * 999)|int %}{{ n * n * n * n * n * n * n * n * n * n }}'
    ),
    "power": "{{ 10 ** 500000 }}",
    # doubling: macros, namespaces, lists
    "macro output doubling": (
        '{% macro d(n) %}{% set x = d(n - 1) if n else "x" %}{{ x }}{{ x }}{% endmacro %}'
        "{{ d(40)|length }}"
    ),
    "namespace doubling with ~": (
        '{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}'
        "{% endfor %}{{ ns.s|length }}"
    ),
    "namespace doubling with +": (
        '{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}'
        "{% endfor %}{{ ns.s|length }}"
    ),
    "list doubling": (
        "{% set ns = namespace(l=[0]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}"
        "{% endfor %}{{ ns.l|length }}"
    ),
    "filter block of a large loop": (
        '{% filter upper %}{% for i in range(99999) %}{{ "x" * 1000 }}{% endfor %}{% endfilter %}'
    ),
    "set block of a large loop": (
        '{% set t %}{% for i in range(99999) %}{{ "x" * 1000 }}{% endfor %}{% endset %}'
        "{{ t|length }}"
    ),
    # generators and globals
    "lipsum": "{{ lipsum(100000, false, 100000, 100000)|length }}",
    "range products": (
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
    ),
    "cycler of huge texts": (
        '{% set c = cycler("x" * 1999999, "y") %}{% for i in range(10) %}{{ c.next() }}{% endfor %}'
    ),
    "cycler with unpacked arguments": '{{ cycler(*(["x" * 1999999] * 1999999)).next() }}',
    "joiner of a huge text": (
        '{% set j = joiner("x" * 1999999) %}{% for i in range(10) %}{{ j() }}{% endfor %}'
    ),
    "loop.cycle with unpacked arguments": (
        "{% for i in range(100000) %}{{ loop.cycle(*range(99999)) }}{% endfor %}"
    ),
    "loop.changed of large values": (
        '{% set a = "x" * 2000000 %}{% for i in range(99999) %}{{ loop.changed(a ~ "") }}'
        "{% endfor %}"
    ),
    "batch filled to a huge count": '{{ range(1)|batch(999999999, "x")|list|length }}',
    "slice into a huge count": '{{ range(1)|slice(999999999, "x")|list|length }}',
    "list of a list of a range": "{{ range(99999)|list|list|list|length }}",
    "sum of lists": "{{ ([[0] * 2000] * 2000)|sum(start=[])|length }}",
    "title of a long text": '{{ ("a " * 1000000)|title|length }}',
    "wordcount of a long text": '{{ ("a " * 1000000)|wordcount }}',
    "split into many": '{{ ("a " * 1000000).split()|length }}',
    "splitlines into many": '{{ ("\n" * 1999999).splitlines()|length }}',
    # comparisons that walk far more than was built
    "unique of equal texts": BIG + "{{ ([a, b] * 1000000)|unique|list|length }}",
    "list equality of equal texts": BIG + "{{ ([a] * 1000000) == ([b] * 1000000) }}",
    "nested literals compared": (
        BIG + "{% set p = " + TEN_A + " %}{% set q = " + TEN_B + " %}"
        "{% set p2 = [p, p, p, p, p, p, p, p, p, p] %}{% set q2 = [q, q, q, q, q, q, q, q, q, q] %}"
        "{{ p2 == q2 }}"
    ),
    "in a list of equal texts": BIG + "{{ b in " + TEN_A[:-1] + "," + TEN_A[1:] + " }}",
    "sort of equal texts": BIG + "{{ ([a, b] * 99999)|sort|length }}",
    "slices in a loop": (
        '{% set a = "x" * 2000000 %}{% for i in range(99999) %}{% set b = a[1:] %}{% endfor %}'
    ),
    # recursion
    "macro recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "recursive loop": "{% for x in [1] recursive %}{{ loop([x, x]) }}{% endfor %}",
    "caller doubling": (
        "{% macro m(n) %}{% set c = caller %}{% if n %}{% call m(n - 1) %}{{ c() }}{{ c() }}"
        "{% endcall %}{% else %}{{ c() }}{% endif %}{% endmacro %}{% call m(40) %}x{% endcall %}"
    ),
    "deep parentheses": "{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}",
    "too many tokens": "{{ x }}" * 7000,
    # within every bound: renders, near the memory bound (4-byte characters kept)
    "astral texts kept": (
        '{% set a = "\U0001f600" * 999999 %}{{ a }}{{ a }}{% set b = "\U0001f600" * 1999999 %}'
        '{% set c = b ~ "" %}{% set e = c ~ "" %}'
    ),
    # what the sandbox does not allow, and Python errors that were 500s
    "include": '{% include "x" %}',
    "import": '{% import "x" as y %}',
    "extends": '{% extends "x" %}',
    "attribute escape": '{{ "".__class__.__mro__ }}',
    "str.translate": '{{ "aaaa".translate({97: "x" * 1999999}) }}',
    "division by zero": "{{ 1 / 0 }}",
    "split on nothing": '{{ "a".split("") }}',
    "unknown % conversion": '{{ "%y" % 1 }}',
    "truncate shorter than its end": '{{ "abcdef"|truncate(1) }}',
    "autoescape block": "{% autoescape true %}{{ '<' * 10 }}{% endautoescape %}",
}
