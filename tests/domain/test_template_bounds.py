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

import pytest
from hypothesis import HealthCheck, given, settings

from promptdeck.domain import templates as t
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
from tests.hostile.jinja_attacks import ATTACKS


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
    if name not in ("truncate past the end", "wordcount of a long text"):
        assert outcome != "rendered", name
