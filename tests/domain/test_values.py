"""What a stored value may be (domain/values.py): refused values are named, accepted ones
are returned unchanged (names: NFC)."""

from __future__ import annotations

import math

import pytest

from promptdeck import limits
from promptdeck.domain import values
from promptdeck.errors import InvalidInput

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, 1e15, -1e300, -0.0, 2**53, -(2**53), 10**30],
)
def test_numbers_that_would_not_come_back_as_written_are_refused(value: float) -> None:
    with pytest.raises(ValueError):
        values.check_json({"x": value})


@pytest.mark.parametrize("value", [0, 1, -1, 2**53 - 1, 0.1, 1.0, 2.5e-8, 999999999999999.9])
def test_numbers_in_range_are_accepted_unchanged(value: float) -> None:
    assert values.check_json({"x": value}) == {"x": value}


def test_json_deeper_than_the_bound_is_refused_and_at_the_bound_accepted() -> None:
    def nested(depth: int) -> object:
        value: object = 1
        for _ in range(depth - 1):
            value = [value]
        return {"x": value}

    values.check_json(nested(limits.JSON_DEPTH_MAX))
    with pytest.raises(ValueError, match="nested"):
        values.check_json(nested(limits.JSON_DEPTH_MAX + 1))


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfff"])
def test_nul_and_lone_surrogates_are_refused_in_text_and_keys(text: str) -> None:
    with pytest.raises(ValueError):
        values.check_text(text)
    with pytest.raises(ValueError):
        values.check_json({text: 1})


def test_version_names_are_nfc_and_refuse_invisible_characters_and_surrounding_spaces() -> None:
    assert values.check_name("e\u0301") == "\u00e9"
    for bad in (" v1", "v1 ", "v\u200b1", "v\u202e1", "v\x071", "\ufeffv1"):
        with pytest.raises(ValueError):
            values.check_name(bad)


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("7", 7),
        ("0", 0),
        (str(limits.ID_MAX), limits.ID_MAX),
        ("007", None),
        ("+7", None),
        ("7 ", None),
        ("\u0667", None),
        ("\u00b2", None),
        ("\uff17", None),
        (str(limits.ID_MAX + 1), None),
        ("9" * 40, None),
        ("-1", None),
    ],
)
def test_a_path_segment_is_an_id_only_when_a_canonical_decimal_in_range(
    segment: str, expected: int | None
) -> None:
    assert values.parse_id(segment) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("{oops", "not valid JSON (Expecting property name enclosed in double quotes at line 1"),
        ("[1]", "must be a JSON object"),
        ('"model"', "must be a JSON object"),
        ("[" * 100_000, "JSON nested too deep"),
    ],
)
def test_a_model_config_typed_as_json_is_refused_naming_the_field(text: str, said: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        values.parse_model_config(text)
    assert refused.value.field == "model_config"
    assert refused.value.detail.startswith(said)


def test_a_model_config_typed_as_json_is_read_and_blank_text_is_an_empty_config() -> None:
    assert values.parse_model_config(' {"model": "m", "t": [0.2]}\n') == {"model": "m", "t": [0.2]}
    assert values.parse_model_config("") == values.parse_model_config(" \n") == {}
