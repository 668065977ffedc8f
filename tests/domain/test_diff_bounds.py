"""Diff work is bounded: past documented sizes the diff is coarser, and says so."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from promptdeck.domain import diff

# Two 20 KB texts of repetitive words: difflib took minutes on these before the bounds.
LINE_A = " ".join("a" for _ in range(4990))
LINE_B = " ".join("a" if i % 7 else "b" for i in range(4990))
REPETITIVE_A = "\n".join("x" if i % 2 else "y" for i in range(12_000))
REPETITIVE_B = "\n".join("x" if i % 3 else "y" for i in range(12_000))


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("old", "new"),
    [(f"{LINE_A}\n{LINE_A}\n", f"{LINE_B}\n{LINE_B}\n"), (REPETITIVE_A, REPETITIVE_B)],
    ids=["long repetitive lines", "many repetitive lines"],
)
def test_adversarial_versions_get_a_coarser_diff_that_still_shows_every_change(
    old: str, new: str
) -> None:
    rows = diff.side_by_side(old, new)
    assert diff.is_coarse(old, new)
    assert "".join(r.right.text + "\n" for r in rows if isinstance(r, diff.Row) and r.right)
    added, removed = diff.stats(old, new)
    assert added and removed


def test_ordinary_edits_keep_the_exact_word_diff() -> None:
    old = "Hello world\nsecond line\nthird\n" * 20
    new = old.replace("second line", "2nd line", 1)
    assert not diff.is_coarse(old, new)
    changed = [r for r in diff.side_by_side(old, new) if isinstance(r, diff.Row) and r.left]
    assert any(s.changed and s.text == "second" for r in changed for s in r.left.segments)  # type: ignore[union-attr]


def test_shared_start_and_end_are_matched_whatever_the_size() -> None:
    common = "\n".join(f"line {i}" for i in range(5000))
    old, new = f"{common}\nold\n{common}", f"{common}\nnew\n{common}"
    assert diff.stats(old, new) == (1, 1)
    assert not diff.is_coarse(old, new)


@pytest.mark.timeout(60)
def test_the_compare_page_says_when_the_diff_is_coarser(api: TestClient) -> None:
    assert api.post("/prompts", json={"name": "big", "content": REPETITIVE_A}).status_code == 201
    created = api.post("/prompts/big/versions", json={"content": REPETITIVE_B, "activate": True})
    assert created.status_code == 201, created.text
    first = api.get("/prompts/big/versions").json()["items"][-1]["id"]
    page = api.get("/ui/prompts/big/compare", params={"a": first, "b": created.json()["id"]})
    assert page.status_code == 200
    assert "too large or too different" in page.text
