"""One spelling for a version in a template (``{{> other@3}}``) and in ``render``'s
``"version"``: only a canonical ASCII decimal within the id range is a version number;
anything else is a label or a version name (422 when none), never a 5xx. Found by an
attacker: Arabic-Indic and fullwidth digits, ``²`` and numbers past 2^31 or 2^63 were 500s
(``str.isdigit`` takes them all; ``int("²")`` raises; PostgreSQL range-checks integers and
SQLite overflows past 2^63)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from promptdeck.domain.templates import IncludeRef

NOT_NUMBERS = [
    "03",
    "+3",
    "-3",
    "\u0663",  # Arabic-Indic three
    "\uff13",  # fullwidth three
    "\u00b2",  # superscript two: isdigit() but int() refuses it
    "\U0001d7d1",  # mathematical bold three
    "\u0969",  # Devanagari three
    "3.0",
    "1e3",
    "0x3",
    "0",
    str(2**31),
    str(2**31 - 1),
    str(2**32 + 3),
    str(2**63),
    str(2**64 + 3),
    "9" * 40,
    "\u0663" * 20,
]


@pytest.fixture
def base(api: TestClient) -> TestClient:
    """Prompt ``base`` with versions 1-3 (content ``v1``…``v3``), version 3 named ``\u0663``."""
    assert api.post("/prompts", json={"name": "base", "content": "v1"}).status_code == 201
    assert api.post("/prompts/base/versions", json={"content": "v2"}).status_code == 201
    third = {"content": "v3", "version_name": "\u0663"}
    assert api.post("/prompts/base/versions", json=third).status_code == 201
    return api


def _include(api: TestClient, at: str) -> int:
    """The status of creating a version of ``host`` that includes ``base@at``."""
    if api.get("/prompts/host").status_code == 404:
        assert api.post("/prompts", json={"name": "host", "content": "-"}).status_code == 201
    answer = api.post(
        "/prompts/host/versions", json={"content": "{{> base@" + at + "}}", "activate": True}
    )
    return answer.status_code


def _render(api: TestClient, at: str) -> tuple[int, str | None]:
    answer = api.post("/prompts/base/render", json={"variables": {}, "version": at})
    return answer.status_code, answer.json().get("text")


def test_the_canonical_decimal_names_the_version_number_in_an_include_and_a_render(
    base: TestClient,
) -> None:
    assert _include(base, "2") == 201
    assert _render(base, "2") == (200, "v2")
    answer = base.post("/prompts/host/render", json={"variables": {}})
    assert answer.json()["text"] == "v2"


@pytest.mark.parametrize("at", NOT_NUMBERS)
def test_any_other_spelling_of_a_number_names_no_version_and_is_a_422_never_a_5xx(
    base: TestClient, at: str
) -> None:
    if at == "\u0663":  # the name of version 3: found by name, not as the number 3
        assert _include(base, at) == 201
        assert _render(base, at) == (200, "v3")
        return
    assert _include(base, at) == 422
    assert _render(base, at)[0] == 422


def test_a_version_name_is_found_by_any_spelling_that_looks_the_same(base: TestClient) -> None:
    """Names are stored NFC; ``@`` and ``"version"`` compare the same way (as ``?name=``)."""
    named = {"content": "v4", "version_name": "\u00e9t\u00e9"}
    assert base.post("/prompts/base/versions", json=named).status_code == 201
    for spelling in ("\u00e9t\u00e9", "e\u0301te\u0301"):
        assert _render(base, spelling) == (200, "v4")
        assert _include(base, spelling) == 201
    assert _include(base, "x" * 5000) == 422


def test_a_version_name_written_in_digits_of_another_script_is_found_by_its_name(
    base: TestClient,
) -> None:
    """``@\u0663`` (Arabic-Indic three) is version 3 only because version 3 is *named* so:
    version 1 has no name, and Arabic-Indic one names nothing."""
    assert _render(base, "\u0663") == (200, "v3")
    assert _render(base, "\u0661")[0] == 422
    assert _render(base, "1") == (200, "v1")


DIGITS = st.sampled_from(["0", "1", "3", "9", "\u0663", "\uff13", "\u00b2", "\u0969", "\U0001d7d1"])
SPELLINGS = st.one_of(
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["", "", "+", "-", "0", "00"]),
        st.lists(DIGITS, min_size=1, max_size=25).map("".join),
        st.sampled_from(["", "", ".0", "e3"]),
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(at=SPELLINGS)
def test_generated_spellings_of_a_version_answer_a_version_or_a_422_never_a_5xx(
    base: TestClient, at: str
) -> None:
    number = IncludeRef("base", at).number
    include, (render, text) = _include(base, at), _render(base, at)
    assert include < 500 and render < 500, (at, include, render)
    if number is not None and 1 <= number <= 3:
        assert at == str(number) and (include, render, text) == (201, 200, f"v{number}")
    elif at != "\u0663":
        assert (include, render) == (422, 422), at
