"""Templates: variables, escapes, chat messages, includes and the sandbox (domain/templates.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck import limits
from promptdeck.domain import templates as t
from promptdeck.domain.templates import IncludeRef
from promptdeck.errors import MissingVariables, RenderTooLarge, TemplateInvalid

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
VALUES = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["{{x}}", "{{ x }}", "{% if x %}y{% endif %}", "{{> other}}", "\\{{x}}"]),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)


def chat(*messages: dict[str, str]) -> str:
    return t.encode_messages(t.check_messages(list(messages)))


@settings(max_examples=60, deadline=None)
@given(template=st.text(max_size=300), values=st.dictionaries(NAMES, VALUES, max_size=5))
def test_any_template_and_values_render_or_are_refused_with_a_template_error(
    template: str, values: dict[str, Any]
) -> None:
    try:
        out = t.render("text", "plain", template, values)
    except (MissingVariables, TemplateInvalid):
        return
    assert out.text is not None
    assert len(out.text) <= limits.RENDER_MAX


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(VALUES, st.text(alphabet="{}%>x\\ ", max_size=40)))
@pytest.mark.parametrize("template_format", ["plain", "jinja"])
def test_a_value_is_inserted_as_is_and_never_interpreted(template_format: str, value: Any) -> None:
    out = t.render("text", template_format, "<{{ v }}>", {"v": value})
    expected = value if isinstance(value, str) else json.dumps(value)
    if template_format == "jinja" and not isinstance(value, str):
        expected = str(value)  # Jinja prints Python values its own way
    assert out.text == f"<{expected}>"


@settings(max_examples=30, deadline=None)
@given(size=st.integers(min_value=1, max_value=5_000), copies=st.integers(1, 600))
def test_output_is_bounded_by_the_cap(size: int, copies: int) -> None:
    template = "{{v}}" * copies
    try:
        out = t.render("text", "plain", template, {"v": "x" * size})
    except RenderTooLarge:
        assert size * copies > limits.RENDER_MAX - len(template)
        return
    assert out.text is not None and len(out.text) <= limits.RENDER_MAX


def test_a_jinja_loop_that_would_write_gigabytes_stops_at_the_cap() -> None:
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{{ v }}{% endfor %}{% endfor %}"
    with pytest.raises(RenderTooLarge):
        t.render("text", "jinja", loop, {"v": "x" * 1000})


def test_the_jinja_sandbox_refuses_attribute_tricks() -> None:
    with pytest.raises(TemplateInvalid, match="sandbox"):
        t.render("text", "jinja", "{{ v.__class__.__mro__[1].__subclasses__() }}", {"v": ""})


def test_a_backslash_makes_braces_literal_and_other_braces_pass_through() -> None:
    template = 'Use \\{{name}} for {{name}}; JSON {"a": {"b": 1}} and {{ "x" }} stay.'
    assert t.variables("text", "plain", template) == ["name"]
    out = t.render("text", "plain", template, {"name": "Ada"})
    assert out.text == 'Use {{name}} for Ada; JSON {"a": {"b": 1}} and {{ "x" }} stay.'


def test_missing_variables_are_all_named_and_unknown_ones_reported() -> None:
    with pytest.raises(MissingVariables, match="a, b"):
        t.render("text", "plain", "{{a}} {{b}} {{c}}", {"c": 1})
    assert t.render("text", "plain", "{{a}}", {"a": "x", "zz": 1}).unused == ["zz"]


def test_a_value_is_never_html_escaped() -> None:
    out = t.render("text", "jinja", "{{ v }} {% if v %}<b>{% endif %}", {"v": "<i>&"})
    assert out.text == "<i>& <b>"


def test_chat_messages_render_with_a_placeholder_filled_by_a_list_of_messages() -> None:
    content = chat(
        {"role": "system", "content": "You are {{persona}}."},
        {"role": "placeholder", "name": "history"},
        {"role": "user", "content": "{{question}}"},
    )
    assert t.variables("chat", "plain", content) == ["history", "persona", "question"]
    history = [{"role": "user", "content": "{{persona}}"}, {"role": "assistant", "content": "ok"}]
    out = t.render(
        "chat", "plain", content, {"persona": "kind", "history": history, "question": "why?"}
    )
    assert out.value() == [
        {"role": "system", "content": "You are kind."},
        *history,
        {"role": "user", "content": "why?"},
    ]


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "robot", "content": "x"}],
        [{"role": "user"}],
        [{"role": "user", "content": 3}],
        [{"role": "placeholder", "name": "not a name"}],
        "not a list",
    ],
)
def test_malformed_messages_are_refused(messages: Any) -> None:
    with pytest.raises(TemplateInvalid):
        t.check_messages(messages)


def test_includes_are_expanded_before_variables_and_their_values_are_not_reinterpreted() -> None:
    seen: list[IncludeRef] = []

    def resolve(ref: IncludeRef) -> str:
        seen.append(ref)
        return "Be {{tone}}."

    template = "{{> tone-guide@3}} {{> tone-guide}} Q: {{q}} \\{{> tone-guide}}"
    assert t.includes("text", template) == [IncludeRef("tone-guide", "3"), IncludeRef("tone-guide")]
    out = t.render("text", "plain", template, {"tone": "{{q}}", "q": "hi"}, resolve=resolve)
    assert out.text == "Be {{q}}. Be {{q}}. Q: hi {{> tone-guide}}"
    assert [str(r) for r in seen] == ["tone-guide@3", "tone-guide"]
    assert seen[0].number == 3 and seen[1].label == "active"


def test_an_include_rendered_without_the_server_says_so() -> None:
    with pytest.raises(TemplateInvalid, match="needs the server"):
        t.render("text", "plain", "{{> other}}", {})


def test_an_include_that_comes_back_to_a_prompt_on_the_path_is_refused() -> None:
    with pytest.raises(TemplateInvalid, match="a -> b -> a"):
        t.render("text", "plain", "{{> b}}", {}, resolve=lambda r: "{{> a}}", path=("a",))


def test_a_jinja_loop_that_writes_nothing_is_bounded_and_refused_like_the_other_caps() -> None:
    quiet = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(RenderTooLarge, match="loop iterations"):
        t.render("text", "jinja", quiet, {})
    filtered = "{% for i in v %}{% for j in v if j < 0 %}{% endfor %}{% endfor %}"
    with pytest.raises(RenderTooLarge):
        t.render("text", "jinja", filtered, {"v": list(range(5000))})
    recursive = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
    with pytest.raises(RenderTooLarge):
        t.render("text", "jinja", recursive + "{{ f(40) }}", {})
    with pytest.raises(RenderTooLarge, match="repetition"):
        t.render("text", "jinja", '{% set x = "a" * 10**9 %}', {})
    # Small loops still render, and the counting is invisible in the output and variables.
    assert (
        t.render("text", "jinja", "{% for i in range(3) if i %}{{ i }}{% endfor %}", {}).text
        == "12"
    )
    assert t.variables("text", "jinja", "{% for i in v %}{{ x }}{% endfor %}") == ["v", "x"]


def _loops(depth: int) -> st.SearchStrategy[str]:
    over = st.one_of(
        st.integers(0, 100_000).map(lambda n: f"range({n})"), st.just("v"), st.just("v|reverse")
    )
    body = st.sampled_from(["", "{{ i }}", "x", "{% set y = i %}"])
    inner = body if depth == 0 else st.one_of(body, _loops(depth - 1))
    test = st.sampled_from(["", " if i", " if i is odd"])
    return st.builds(
        lambda o, b, tst: f"{{% for i in {o}{tst} %}}{b}{{% endfor %}}", over, inner, test
    )


@settings(max_examples=20, deadline=None)
@given(
    template=st.one_of(_loops(3), st.builds("{}{}".format, _loops(2), _loops(2))),
    size=st.integers(0, 3000),
)
def test_any_jinja_loops_over_any_values_render_or_are_refused_within_the_bounds(
    template: str, size: int
) -> None:
    try:
        out = t.render("text", "jinja", template, {"v": list(range(size))})
    except RenderTooLarge:
        return
    assert out.text is not None and len(out.text) <= limits.RENDER_MAX
