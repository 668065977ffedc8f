"""The diff helpers: word-level highlights, aligned columns, context, config changes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck.domain import diff
from promptdeck.domain.diff import ConfigChange, Line, Row, Segment, Skip

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only


def changed_words(segments: tuple[Segment, ...]) -> list[str]:
    return [s.text for s in segments if s.changed]


def test_words_concatenate_back_to_the_text() -> None:
    text = "Hello,  {{ name }}!\tBye."
    assert "".join(diff.words(text)) == text
    assert diff.words("a, b") == ["a", ",", " ", "b"]


def test_word_diff_marks_only_the_words_that_changed() -> None:
    ops = diff.word_diff("Be kind and brief.", "Be kind and very brief.")
    assert [(o.kind, o.text) for o in ops if o.kind != "equal"] == [("insert", "very ")]
    assert "".join(o.text for o in ops if o.kind != "insert") == "Be kind and brief."


def test_unified_pairs_a_changed_line_and_highlights_the_changed_word() -> None:
    lines = diff.unified("Hi\nYou are rude.\nEnd", "Hi\nYou are kind.\nEnd")
    assert [(ln.kind, ln.old_number, ln.new_number) for ln in lines if isinstance(ln, Line)] == [
        ("equal", 1, 1),
        ("delete", 2, None),
        ("insert", None, 2),
        ("equal", 3, 3),
    ]
    deleted, inserted = lines[1], lines[2]
    assert isinstance(deleted, Line) and isinstance(inserted, Line)
    assert changed_words(deleted.segments) == ["rude"]
    assert changed_words(inserted.segments) == ["kind"]
    assert inserted.text == "You are kind."


def test_added_and_removed_lines_are_wholly_marked() -> None:
    lines = diff.unified("a\nb", "a\nb\nc")
    assert lines[-1] == Line("insert", None, 3, (Segment("c", True),))
    assert diff.stats("a\nb", "a\nb\nc") == (1, 0)
    assert diff.stats("a\nb\nc", "a") == (0, 2)


def test_side_by_side_aligns_rows_and_leaves_gaps_for_unmatched_lines() -> None:
    rows = diff.side_by_side("one\ntwo", "one\n2\nthree")
    assert all(isinstance(r, Row) for r in rows)
    sides = [
        (r.left.text if r.left else None, r.right.text if r.right else None)
        for r in rows
        if isinstance(r, Row)
    ]
    assert sides == [("one", "one"), ("two", "2"), (None, "three")]


def test_context_collapses_long_unchanged_runs() -> None:
    old = "\n".join(f"line {i}" for i in range(20))
    new = old.replace("line 10", "line ten")
    shown = diff.unified(old, new, context=2)
    assert shown[0] == Skip(8)
    assert shown[-1] == Skip(7)
    assert sum(isinstance(x, Line) for x in shown) == 6
    assert diff.unified(old, old, context=2) == [Skip(20)]
    assert diff.side_by_side("", "", context=2) == []


def test_very_long_lines_are_compared_whole() -> None:
    old = "x " * diff.WORD_DIFF_MAX_CHARS
    lines = diff.unified(old, old + "y")
    assert [changed_words(ln.segments) for ln in lines if isinstance(ln, Line)] == [
        [old],
        [old + "y"],
    ]


def test_config_changes_lists_added_removed_and_changed_keys_with_dotted_paths() -> None:
    old = {"model": "gpt-4o", "temperature": 0.2, "stop": ["\n"], "extra": {"a": 1, "b": 2}}
    new = {"model": "gpt-4o", "temperature": 0.7, "max_tokens": 300, "extra": {"a": 1}}
    assert diff.config_changes(old, new) == [
        ConfigChange("extra.b", "removed", old=2),
        ConfigChange("max_tokens", "added", new=300),
        ConfigChange("stop", "removed", old=["\n"]),
        ConfigChange("temperature", "changed", old=0.2, new=0.7),
    ]
    assert diff.config_changes(new, new) == []


def test_highlights_cover_words_not_the_spaces_around_them() -> None:
    lines = diff.unified("Answer politely.", "Answer politely and briefly.")
    inserted = lines[1]
    assert isinstance(inserted, Line)
    assert changed_words(inserted.segments) == ["and briefly"]
    assert inserted.text == "Answer politely and briefly."
    spaced = diff.unified("a b", "a  b")[1]
    assert isinstance(spaced, Line) and changed_words(spaced.segments) == ["  "]


def test_a_shared_space_alone_does_not_split_a_change_in_two() -> None:
    ops = diff.word_diff("Hello world", "Bye you")
    assert [(o.kind, o.text) for o in ops] == [("delete", "Hello world"), ("insert", "Bye you")]
    kept = diff.word_diff("keep this one", "keep that two")
    assert [(o.kind, o.text) for o in kept] == [
        ("equal", "keep "),
        ("delete", "this one"),
        ("insert", "that two"),
    ]


def test_chat_versions_are_compared_message_by_message() -> None:
    from promptdeck.domain.diff import messages

    old = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "{{q}}"},
        {"role": "assistant", "content": "bye"},
    ]
    new = [
        {"role": "system", "content": "Be brief."},
        {"role": "placeholder", "name": "history"},
        {"role": "user", "content": "{{q}}"},
    ]
    changes = messages(old, new)
    assert [(c.kind, c.role, c.old_index, c.new_index) for c in changes] == [
        ("changed", "system", 0, 0),
        ("added", "placeholder", None, 1),
        ("equal", "user", 1, 2),
        ("removed", "assistant", 2, None),
    ]
    changed_lines = [line for line in changes[0].lines if not hasattr(line, "count")]
    assert [(line.kind, line.text) for line in changed_lines] == [
        ("delete", "Be kind."),
        ("insert", "Be brief."),
    ]


def test_patch_writes_hunks_as_diff_u_does_and_nothing_for_equal_texts() -> None:
    old = "\n".join(f"line {i}" for i in range(1, 11))
    new = old.replace("line 2", "line two").replace("line 9\n", "")
    assert diff.patch(old, new, old_name="v1 (#1)", new_name="v2 (#2)", context=1) == (
        "--- v1 (#1)\n+++ v2 (#2)\n"
        "@@ -1,3 +1,3 @@\n line 1\n-line 2\n+line two\n line 3\n"
        "@@ -8,3 +8,2 @@\n line 8\n-line 9\n line 10\n"
    )
    assert diff.patch("", "a", old_name="x", new_name="y") == "--- x\n+++ y\n@@ -0,0 +1 @@\n+a\n"
    assert diff.patch(old, old + "\n", old_name="x", new_name="y") == ""


def apply_patch(old: str, patch: str) -> str:
    """``patch`` applied to ``old``, checking each hunk's ranges and kept lines."""
    source, out, at = old.splitlines(), [], 0
    for hunk in re.split(r"^(?=@@ )", patch, flags=re.M)[1:]:
        head, *lines = hunk.splitlines()
        m = re.fullmatch(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", head)
        assert m is not None, head
        count = int(m[2] or 1)
        start = int(m[1]) - (1 if count else 0)
        out, at = out + source[at:start], start
        assert [x[1:] for x in lines if x[0] in " -"] == source[at : at + count]
        assert len([x for x in lines if x[0] in " +"]) == int(m[4] or 1)
        out += [x[1:] for x in lines if x[0] in " +"]
        at += count
    return "\n".join(out + source[at:])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from("abcde"), max_size=25),
    st.lists(st.sampled_from("abcdef"), max_size=25),
    st.integers(0, 3),
)
def test_a_patch_applied_to_the_old_text_gives_the_new_one(
    old: list[str], new: list[str], context: int
) -> None:
    patch = diff.patch("\n".join(old), "\n".join(new), old_name="a", new_name="b", context=context)
    assert (patch == "") == (old == new)
    if patch:
        assert apply_patch("\n".join(old), patch) == "\n".join(new)
