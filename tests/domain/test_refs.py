"""The shared vocabulary: references parsed once, ETags built and matched in one place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from promptdeck.domain import etag
from promptdeck.domain.models import Prompt, Version
from promptdeck.domain.refs import EventKind, PromptRef, VersionRef, is_id
from promptdeck.domain.rules import check_prompt_name
from promptdeck.errors import InvalidInput
from promptdeck.server.active import render

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only


def test_digits_are_an_id_and_anything_else_is_a_name() -> None:
    assert PromptRef.parse("42") == PromptRef(id=42)
    assert PromptRef.parse(42) == PromptRef(id=42)
    assert PromptRef.parse("support-reply") == PromptRef(name="support-reply")
    assert PromptRef.parse("v2") == PromptRef(name="v2")


def test_a_name_that_would_read_as_an_id_is_refused() -> None:
    assert is_id("123") and not is_id("1a")
    check_prompt_name("1a")
    try:
        check_prompt_name("123")
    except InvalidInput as exc:
        assert exc.field == "name"
    else:
        raise AssertionError("an all-digit name was accepted")


def test_a_parsed_ref_parses_to_itself_and_prints_as_it_was_given() -> None:
    ref = PromptRef.parse("support-reply")
    assert PromptRef.parse(ref) is ref
    assert str(ref) == "support-reply"
    assert str(PromptRef.parse("7")) == "7"
    assert str(VersionRef(PromptRef.parse("p"), 3)) == "p/versions/3"


def test_event_kinds_are_the_strings_stored_and_shown() -> None:
    assert EventKind.VERSION_ROLLED_BACK == "version.rolled_back"
    assert str(EventKind.PROMPT_CREATED) == "prompt.created"


def test_a_prompt_etag_names_its_id_and_revision() -> None:
    assert etag.prompt_etag(3, 7) == '"3-7"'


def test_if_match_accepts_any_listed_tag_weak_or_strong_and_star() -> None:
    assert etag.matches('"1-2"', '"1-2"')
    assert etag.matches('"9-9", W/"1-2"', '"1-2"')
    assert etag.matches(" * ", '"1-2"')
    assert not etag.matches('"1-3"', '"1-2"')


def test_the_active_paths_etag_is_the_one_the_domain_builds() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    version = Version(11, 1, 1, "v1", "", now, "ana", "sha256:" + "0" * 64, True, content="x")
    prompt = Prompt(1, "p", "", [], "x", {}, 11, 1, None, 1, now, now, active_version=version)
    assert render(prompt, version).etag == etag.active_etag(11)
