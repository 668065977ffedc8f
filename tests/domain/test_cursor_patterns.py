"""A cursor's pattern in the OpenAPI document is the server's whole check of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck import limits
from promptdeck.domain import rules, values
from promptdeck.errors import InvalidInput

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only


@pytest.mark.parametrize("most", [1, 9, 10, 99, 100, 205, 1000, limits.ID_MAX])
def test_decimal_at_most_matches_exactly_the_canonical_decimals_from_1_to_most(most: int) -> None:
    pattern = re.compile(values.decimal_at_most(most))
    probes = {*range(0, 1200), most - 1, most, most + 1, most * 10}
    for n in probes:
        assert bool(pattern.fullmatch(str(n))) == (1 <= n <= most), n
    assert pattern.fullmatch("01") is None


@settings(max_examples=300)
# fullmatch: JSON Schema's $ is the end of the text (Python's also matches before a "\n").
@given(st.from_regex(rules.CURSOR_PATTERN, fullmatch=True))
def test_every_text_the_key_cursor_pattern_allows_is_read_and_no_other(text: str) -> None:
    if text:
        assert rules.encode_cursor(rules.decode_cursor(text)) == text


@settings(max_examples=300)
@given(st.from_regex(rules.TIME_CURSOR_PATTERN, fullmatch=True))
def test_every_text_the_time_cursor_pattern_allows_is_read(text: str) -> None:
    if text:
        rules.decode_time_cursor(text)


@pytest.mark.parametrize("text", ["k:2147483648", "k:01", "k:-1", "k:", "k:1\n", "t:-0:1", "x"])
def test_a_cursor_outside_the_pattern_is_refused_naming_cursor(text: str) -> None:
    assert re.fullmatch(rules.CURSOR_PATTERN, text) is None
    with pytest.raises(InvalidInput) as refused:
        rules.decode_cursor(text)
    assert refused.value.field == "cursor"


def test_cursors_round_trip_and_a_time_past_the_calendar_reads_as_its_end() -> None:
    at = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)
    assert rules.decode_time_cursor(rules.encode_time_cursor(at, 7)) == (at, 7)
    assert rules.decode_time_cursor(f"t:{10**17 * 9}:1")[0] == datetime.max.replace(tzinfo=UTC)
    assert rules.decode_cursor(rules.encode_cursor(limits.ID_MAX)) == limits.ID_MAX
