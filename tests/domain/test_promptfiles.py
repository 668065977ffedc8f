"""Prompt files (domain/promptfiles.py): what is written reads back exactly, byte for byte."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck.domain.promptfiles import PromptFile, dump, load
from promptdeck.errors import InvalidInput

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

# Pieces that trip YAML, Markdown headers and line endings, mixed with any other text.
TRICKY = [
    "---", "---\n", "\n---\n", "...", "\r\n", "\r", "\n", "\n\n", "\t", " ", "  \n", "yes",
    "no", "on", "null", "~", "Null", "true", "1.0", "0o17", "012", "1_000", "1e3", ".inf",
    ": ", "- ", "# ", "#", "|", ">", "&a", "*a", "!!str", "%YAML", "'", '"', "\\", "{", "[",
    "@", "`", "é", "e\u0301", "\u2028", "\u2029", "\x85", "\ufeff", "\x0b", "\x0c", "😀",
    "\x00", "\x7f", "\u200b", "{{name}}", "{% if x %}",
]  # fmt: skip
text = st.lists(
    st.one_of(st.sampled_from(TRICKY), st.text(st.characters(exclude_categories=["Cs"]))),
    max_size=8,
).map("".join)
slug = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
mapping = st.dictionaries(text, json_values, max_size=4)
messages = st.lists(
    st.one_of(
        st.fixed_dictionaries({"role": st.sampled_from(["system", "user"]), "content": text}),
        st.fixed_dictionaries({"role": st.just("placeholder"), "name": slug}),
        mapping,
    ),
    max_size=4,
)


@st.composite
def prompt_files(draw: st.DrawFn) -> PromptFile:
    chat = draw(st.booleans())
    return PromptFile(
        name=draw(slug),
        kind="chat" if chat else "text",
        content="" if chat else draw(text),
        messages=draw(messages) if chat else None,
        description=draw(text),
        tags=draw(st.lists(text, max_size=3)),
        model_config=draw(mapping),
        template_format=draw(st.sampled_from(["plain", "jinja"])),
        contract=draw(st.none() | mapping),
        version_description=draw(text),
        labels=draw(st.lists(slug, max_size=3)),
    )


def exact(f: PromptFile) -> str:
    """Every field, type for type (True is not 1, 1.0 is not 1)."""
    return json.dumps(dataclasses.asdict(f), ensure_ascii=False)


@settings(max_examples=250, deadline=None)
@given(prompt_files())
def test_a_written_prompt_file_reads_back_the_same_values_and_writes_the_same_bytes(
    f: PromptFile,
) -> None:
    data = dump(f)
    back = load(data, f"{f.name}{f.suffix}")
    assert exact(back) == exact(f)
    assert dump(back) == data


@settings(max_examples=200, deadline=None)
@given(text)
def test_a_text_prompts_body_is_its_content_byte_for_byte(content: str) -> None:
    data = dump(PromptFile(name="p", content=content))
    assert data.endswith(content.encode())
    assert load(data, "p.md").content == content


def test_a_file_with_windows_line_endings_keeps_them_in_the_content() -> None:
    data = b"---\r\nname: p\r\n---\r\nline one\r\nline two\r\n"
    assert load(data, "p.md").content == "line one\r\nline two\r\n"


def test_the_header_ends_at_the_first_fence_and_later_fences_are_content() -> None:
    data = b"---\nname: p\n---\n---\nname: q\n---\n"
    f = load(data, "p.md")
    assert (f.name, f.content) == ("p", "---\nname: q\n---\n")


def test_yaml_special_words_are_written_quoted_and_stay_text() -> None:
    f = PromptFile(name="p", description="yes", tags=["null", "on", "1.0"])
    data = dump(f)
    assert b"description: 'yes'" in data
    assert load(data, "p.md").tags == ["null", "on", "1.0"]


@pytest.mark.parametrize(
    ("data", "path", "field"),
    [
        (b"name: p\n", "p.md", "p.md"),
        (b"---\nname: p\n", "p.md", "p.md"),
        (b"---\nnaem: p\n---\n", "p.md", "p.md: naem"),
        (b"---\ndescription: x\n---\n", "p.md", "p.md: name"),
        (b"---\nname: P Q\n---\n", "p.md", "p.md: name"),
        (b"---\nname: p\ndescription: 2024-01-01\n---\n", "p.md", "p.md: description"),
        (b"---\nname: p\ntags: [yes]\n---\n", "p.md", "p.md: tags"),
        (b"---\nname: p\nlabels: [Prod]\n---\n", "p.md", "p.md: labels"),
        (b"---\nname: p\ntemplate_format: mustache\n---\n", "p.md", "p.md: template_format"),
        (b"---\nname: p\nmodel_config: [1]\n---\n", "p.md", "p.md: model_config"),
        (b"---\nname: p\nmodel_config: {t: .nan}\n---\n", "p.md", "p.md: model_config"),
        (b"---\n[unclosed\n---\n", "p.md", "p.md"),
        (b"\xff\xfe---\n", "p.md", "p.md"),
        (b"name: p\n", "p.yaml", "p.yaml: messages"),
        (b"name: p\nmessages: hello\n", "p.yaml", "p.yaml: messages"),
        (b"name: p\nmessages: [1]\n", "p.yaml", "p.yaml: messages[0]"),
        (b"- a list\n", "p.yaml", "p.yaml"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_the_key(
    data: bytes, path: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load(data, path)
    assert caught.value.field == field


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | text.map(lambda t: ("---\n" + t).encode()), st.booleans())
def test_any_bytes_either_read_as_a_prompt_or_are_refused_as_invalid_input(
    data: bytes, chat: bool
) -> None:
    try:
        f = load(data, "p.yaml" if chat else "p.md")
    except InvalidInput:
        return
    assert isinstance(f, PromptFile)


def test_a_header_value_that_yaml_cannot_hold_exactly_is_written_on_one_quoted_line() -> None:
    f = PromptFile(name="p", description="trailing space \nthen\rmore")
    data = dump(f)
    assert b'description: "trailing space \\nthen\\rmore"\n' in data
    assert load(data, "p.md").description == f.description
