"""Every render is bounded before it allocates (issue 22): Jinja templates built from every
construct the sandbox allows (each filter, test, global and str method, with huge numbers
among their arguments; operators, formats, slices, loops over ranges, nested macros calling
each other, call blocks, recursive loops, captured blocks; tests/domain/jinja_strategies.py)
either render or are refused with RenderTooLarge or TemplateInvalid, using less than 1.5 x
RENDER_CPU_S of the thread's CPU (a correctness bound with margin, not a speed test) and less
than RENDER_MEMORY_MAX (tracemalloc's peak). The attacker's templates
(tests/hostile/jinja_attacks.py) are explicit cases."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.utils import htmlsafe_json_dumps

from promptdeck.domain import templates as t
from promptdeck.domain.templates import budget, sizes
from promptdeck.domain.templates import filters as allowed
from promptdeck.domain.templates.methods import STR_METHODS
from promptdeck.errors import TemplateInvalid
from tests.domain.jinja_strategies import (
    FILTER_ARGS,
    METHOD_ARGS,
    VALUES,
    assert_bounded,
    templates,
)
from tests.hostile.jinja_attacks import ATTACKS, MAY_RENDER, RENDER

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only


def test_the_generator_covers_every_allowed_filter_and_str_method() -> None:
    assert set(FILTER_ARGS) == set(allowed.FILTERS)
    assert set(METHOD_ARGS) <= STR_METHODS  # the others take no arguments: "()"


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(template=templates())
def test_any_template_of_allowed_constructs_renders_or_is_refused_within_the_bounds(
    template: str,
) -> None:
    assert_bounded(template, VALUES)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_each_known_attack_is_refused_or_renders_within_the_bounds(name: str) -> None:
    template = ATTACKS[name]
    with contextlib.suppress(TemplateInvalid):  # refused at creation; a render refuses it too
        t.check("text", "jinja", template)
    outcome = assert_bounded(template, VALUES)
    if name not in MAY_RENDER:
        assert (outcome == "rendered") == (name in RENDER), (name, outcome)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=JSON, indent=st.sampled_from([None, 0, 2, 16]))
def test_a_value_is_never_longer_than_measured_before_it_is_written(
    value: Any, indent: int | None
) -> None:
    """The sandbox measures a value's text before making it: the measure is an upper bound."""
    with budget.active(budget.Budget()):
        assert len(str(value)) <= sizes.measure(value)
        assert len(repr(value)) <= sizes.measure(value, "repr")
        dumped = htmlsafe_json_dumps(value, dumps=json.dumps, sort_keys=True, indent=indent)
        assert len(dumped) <= sizes.measure(value, "json", indent=indent or 0)


NUMBER_VALUES = st.one_of(
    st.integers(min_value=-(2**8000), max_value=2**8000), st.floats(), st.booleans()
)


@settings(max_examples=300, deadline=None)
@given(
    value=NUMBER_VALUES,
    kind=st.sampled_from([*"bcdoxXnfFeEgG%", ""]),
    flags=st.sampled_from(["", "+", "#", ",", "_", "0", "#,"]),
    width=st.sampled_from(["", "1", "30"]),
    precision=st.sampled_from(["", ".0", ".3", ".60"]),
)
def test_a_formatted_number_is_never_longer_than_its_bound(
    value: int | float, kind: str, flags: str, width: str, precision: str
) -> None:
    """str.format's and %'s results are bounded before they are made (sizes.py)."""
    spec = f"{flags}{width}{precision}{kind}"
    with budget.active(budget.Budget()):
        try:
            out = format(value, spec)
        except (ValueError, OverflowError, TypeError):
            pass
        else:
            assert len(out) <= sizes.spec_size(value, spec), spec
        printf = f"%{flags.replace(',', '').replace('_', '')}{width}{precision}{kind or 'd'}"
        try:
            out = printf % value
        except (ValueError, OverflowError, TypeError):
            return
        assert len(out) <= sizes.printf_size(printf, value), printf


ORDINARY = {
    "numbers in a long loop": "{% for i in range(60000) %}{{ i }},{% endfor %}",
    "prices formatted": '{% for p in prices %}{{ "%.2f"|format(p) }} {{ "{:>10,.2f}".format(p) }}\n'
    "{% endfor %}",
    "names joined": '{{ names|join(", ") }} {{ names|map("upper")|join(" ") }}',
    "a long text wrapped and indented": "{{ long|wordwrap(80)|indent(4) }}",
    "a long text titled and counted": "{{ long|title|length }} {{ long|wordcount }}",
    "items sorted and grouped": (
        '{% for g in rows|groupby("kind") %}{{ g.grouper }}: {{ g.list|map(attribute="n")'
        '|sort|join(",") }}\n{% endfor %}'
    ),
    "macros in a loop": (
        "{% macro row(r) %}<{{ r.kind }}:{{ r.n }}>{% endmacro %}"
        "{% for r in rows %}{{ row(r) }}{% endfor %}"
    ),
}
ORDINARY_VALUES: dict[str, Any] = {
    "prices": [i * 1.25 for i in range(5000)],
    "names": [f"name{i}" for i in range(10000)],
    "long": "A sentence of ordinary words, some-hyphenated. " * 2000,
    "rows": [{"kind": f"k{i % 7}", "n": i} for i in range(5000)],
}


@pytest.mark.parametrize("name", sorted(ORDINARY))
def test_ordinary_templates_at_scale_still_render(name: str) -> None:
    out = t.render("text", "jinja", ORDINARY[name], ORDINARY_VALUES)
    assert out.text
