"""In Chromium: a writer creates a test set, starts an evaluation of two versions against the
stand-in provider, and sees the page reload itself until the verdict is there; a deploy
request to the gated label then shows the gate passed by that evaluation (issue 25)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion, MoveLabel, ProposeDeploy
from tests.evaluations.helpers import FAST, REFUND, add_provider, evaluations_of, script_refunds
from tests.support.fake_llm import FakeLLM
from tests.support.server import ServerProcess
from tests.ui.conftest import LAPTOP
from tests.ui.test_browser import watch_errors

pytestmark = pytest.mark.sqlite_only

QUESTIONS = ["My order came late.", "The parcel was damaged.", "I was charged twice."]


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=("m",)) as server:
        yield server


def test_a_writer_creates_a_test_set_evaluates_two_versions_and_sees_the_verdict(
    browser: Any,
    start_server: Callable[..., ServerProcess],
    registry: Registry,
    database_url: str,
    llm: FakeLLM,
    shots: Path,
) -> None:
    ana = Caller.local("ana")
    made = registry.create_prompt(CreatePrompt("support-reply", content="Reply to: {{q}}"), ana)
    refund = registry.create_version(
        CreateVersion("support-reply", content=f"Reply to: {{{{q}}}} {REFUND}"), ana
    )
    add_provider(database_url, llm)
    script_refunds(llm)
    server = start_server(env=FAST)
    page = browser.new_context(viewport=LAPTOP).new_page()
    problems = watch_errors(page)

    page.goto(server.url + "/ui/test-sets")
    page.locator("#ts-name").fill("smoke")
    page.get_by_label("Prompt", exact=True).fill("support-reply")
    cases = "\n".join(f'{{"variables": {{"q": "{q}"}}}}' for q in QUESTIONS * 4)
    page.get_by_label("Cases (JSONL: a case a line)").fill(cases)
    page.get_by_role("button", name="Create test set").click()
    assert page.get_by_role("heading", name="Test set smoke").is_visible()
    assert "12 cases" in page.locator(".meta").first.inner_text()

    page.get_by_role("link", name="Evaluate support-reply on this set").click()
    assert (
        page.get_by_label("Candidate", exact=True).input_value()
        != page.locator("#ev-baseline").input_value()
    )
    assert page.get_by_label("Model", exact=True).input_value() == "local:m"
    page.get_by_role("button", name="Start evaluation").click()
    # The page reloads itself (app.js, every 2 s) while the runner works.
    page.wait_for_selector("#ev-verdict", timeout=120_000)
    assert page.locator("#ev-verdict").inner_text() == "better"
    assert page.locator("#ev-status").text_content() == "completed"
    assert "We will refund you today" in page.locator("table.items").inner_text()
    page.screenshot(path=str(shots / "evaluation.png"), full_page=True)

    # production serves #1 and is gated on the set: the request for #2 meets the evaluation.
    first = made.prompt.active_version_id
    assert first is not None
    registry.move_label(MoveLabel("support-reply", "production", first), ana)
    gate = {"contains": 0.9}
    evaluations_of(registry).set_gate("support-reply", "production", "smoke", gate, SYSTEM)
    proposal = ProposeDeploy("support-reply", "production", refund.version.id, "offer refunds")
    proposed = registry.propose_deploy(proposal, Caller.local("dev"))
    page.goto(f"{server.url}/ui/prompts/support-reply/deploy-requests/{proposed.id}")
    assert page.locator("#gate-status").text_content() == "passes"
    assert "the candidate is better" in page.locator("#gate-check").inner_text()
    page.screenshot(path=str(shots / "deploy-gate.png"), full_page=True)
    assert problems == []
