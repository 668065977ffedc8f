"""Rollout assignment (domain/rollouts/assign.py): the hash every client reproduces, checked
against the published fixtures (conformance/assignment.json) and against its spec."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck import limits
from promptdeck.domain.rollouts import assign
from promptdeck.errors import InvalidInput

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance"
FIXTURES: dict[str, Any] = json.loads((CONFORMANCE / "assignment.json").read_text())

keys = st.text(st.characters(exclude_categories=["Cs"]), max_size=limits.ROLLOUT_KEY_MAX_BYTES // 4)
salts = st.from_regex(assign.SALT_PATTERN, fullmatch=True)
points = st.integers(0, limits.ROLLOUT_BUCKETS)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_assignment", CONFORMANCE / "make_assignment.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_published_fixtures_are_what_the_generator_writes() -> None:
    assert (CONFORMANCE / "assignment.json").read_text() == _generator().render()


@pytest.mark.parametrize("case", FIXTURES["buckets"], ids=lambda c: repr(c["key"])[:30])
def test_every_fixture_key_lands_in_its_published_bucket(case: dict[str, Any]) -> None:
    assert assign.bucket(case["salt"], case["key"]) == case["bucket"]


def test_every_fixture_arm_is_the_published_one_at_its_share() -> None:
    for case in FIXTURES["arms"]:
        assert assign.basis_points(case["percent"]) == case["basis_points"]
        assert assign.assign(case["salt"], case["key"], case["basis_points"]) == case["arm"]
        assert assign.Salted(case["salt"]).assign(case["key"], case["basis_points"]) == case["arm"]


@pytest.mark.parametrize("key", FIXTURES["refused_keys"], ids=lambda k: f"{len(k)} chars")
def test_fixture_keys_that_are_not_text_or_too_long_are_refused_naming_the_key(key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        assign.bucket("s", key)
    assert caught.value.field == "key"


def test_ten_thousand_generated_keys_land_in_their_published_buckets() -> None:
    generated = FIXTURES["generated"]
    found = [assign.bucket(generated["salt"], f"user-{i}") for i in range(10_000)]
    assert found == generated["buckets"]


def test_the_fixtures_cover_empty_astral_long_and_boundary_cases() -> None:
    keys_ = {c["key"] for c in FIXTURES["buckets"]}
    assert "" in keys_
    assert any(any(ord(ch) > 0xFFFF for ch in k) for k in keys_)
    assert any(len(k.encode()) == limits.ROLLOUT_KEY_MAX_BYTES for k in keys_)
    arms = FIXTURES["arms"]
    # A share equal to the bucket leaves the key on the baseline; one more point moves it.
    assert any(
        a["basis_points"] == assign.bucket(a["salt"], a["key"]) and a["arm"] == "baseline"
        for a in arms
    )
    assert {a["arm"] for a in arms if a["percent"] == 100} == {"candidate"}
    assert {a["arm"] for a in arms if a["percent"] == 0} == {"baseline"}


@settings(max_examples=300, deadline=None)
@given(salt=salts, key=keys)
def test_the_bucket_is_the_spec_computed_by_hand(salt: str, key: str) -> None:
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    by_hand = (digest[0] << 24 | digest[1] << 16 | digest[2] << 8 | digest[3]) % 10_000
    assert assign.bucket(salt, key) == by_hand


@settings(max_examples=300, deadline=None)
@given(salt=salts, key=keys, share=points)
def test_a_salt_hashed_once_assigns_as_the_plain_function(salt: str, key: str, share: int) -> None:
    salted = assign.Salted(salt)
    assert salted.bucket(key) == assign.bucket(salt, key)
    assert salted.assign(key, share) == assign.assign(salt, key, share)


@settings(max_examples=500, deadline=None)
@given(salt=salts, key=keys, low=points, high=points)
def test_raising_the_share_never_moves_a_key_from_the_candidate_back_to_the_baseline(
    salt: str, key: str, low: int, high: int
) -> None:
    low, high = min(low, high), max(low, high)
    if assign.assign(salt, key, low) == "candidate":
        assert assign.assign(salt, key, high) == "candidate"


@settings(max_examples=200, deadline=None)
@given(salt=salts, key=keys, share=points)
def test_the_same_key_gets_the_same_arm_every_time(salt: str, key: str, share: int) -> None:
    assert len({assign.assign(salt, key, share) for _ in range(3)}) == 1


def test_a_share_takes_about_its_part_of_ten_thousand_keys() -> None:
    buckets = FIXTURES["generated"]["buckets"]
    for share in (500, 2500, 5000):
        taken = sum(1 for b in buckets if b < share)
        assert abs(taken - share) < 4 * (share * (1 - share / 10_000)) ** 0.5  # 4 s.d.


def test_a_call_without_a_key_is_assigned_at_random_each_time() -> None:
    arms = [assign.assign("s", None, 5_000) for _ in range(200)]
    assert set(arms) == {"baseline", "candidate"}
    assert assign.assign("s", None, 0) == "baseline"
    assert assign.assign("s", None, 10_000) == "candidate"


def test_keys_up_to_512_bytes_are_accepted_and_longer_ones_refused() -> None:
    assign.bucket("s", "é" * 256)
    with pytest.raises(InvalidInput, match="513 bytes"):
        assign.bucket("s", "é" * 256 + "a")


@pytest.mark.parametrize("salt", ["", "a:b", "é", "x" * 65, "a b"])
def test_a_salt_outside_its_alphabet_is_refused_naming_the_salt(salt: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        assign.bucket(salt, "k")
    assert caught.value.field == "salt"


def test_keys_are_hashed_as_given_not_normalized() -> None:
    assert assign.bucket("s", "e\u0301") != assign.bucket("s", "\u00e9")


@pytest.mark.parametrize(
    ("share", "expected"), [(5, 500), (12.5, 1250), (0.01, 1), (33.33, 3333), (100, 10_000)]
)
def test_percentages_with_two_decimals_are_basis_points(share: float, expected: int) -> None:
    assert assign.basis_points(share) == expected
    assert assign.basis_points(assign.percent(expected)) == expected


def test_a_percentage_with_three_decimals_is_refused() -> None:
    with pytest.raises(ValueError):
        assign.basis_points(0.125)


def test_new_salts_differ_and_fit_the_alphabet() -> None:
    salts_ = {assign.new_salt() for _ in range(20)}
    assert len(salts_) == 20
    assert all(assign.SALT_PATTERN.fullmatch(s) for s in salts_)


def test_the_client_can_import_the_assignment_without_the_servers_dependencies() -> None:
    code = (
        "import sys, promptdeck.domain.rollouts.assign; "
        "heavy = {'scipy', 'numpy', 'ddsketch', 'sqlalchemy', 'fastapi'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
