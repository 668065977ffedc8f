"""The playground in a real headless Chromium against a real `promptdeck serve` and the
stand-in provider: fill the variables, run the draft beside the active version, see the
answer stream in, make a test case, save the draft as a version; from the keyboard and on a
phone. Its screenshot is the README's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from promptdeck.domain.test_sets import Case
from tests.evaluations.helpers import LOOPBACK, evaluations_of
from tests.runs.conftest import add_provider
from tests.support.fake_llm import Answer, FakeLLM
from tests.support.server import ServerProcess
from tests.ui.conftest import LAPTOP, PHONE
from tests.ui.test_browser import watch_errors

pytestmark = pytest.mark.sqlite_only

PLAIN = "You are a support agent for {{ company }}.\nAnswer {{ customer }}: {{ question }}"
WARM = "You are a warm support agent for {{ company }}. Offer a refund when late.\n" + (
    "Answer {{ customer }}: {{ question }}"
)
CONTRACT = {
    "variables": {
        "type": "object",
        "properties": {
            "company": {"type": "string", "description": "Who the agent works for"},
            "customer": {"type": "string"},
            "question": {"type": "string", "maxLength": 500},
        },
        "required": ["company", "customer", "question"],
    }
}
WARM_ANSWER = (
    "Hi Ada, ",
    "I'm so sorry ",
    "your parcel ",
    "is late. ",
    "I've refunded ",
    "the shipping.",
)


@pytest.fixture
def llm() -> Any:
    with FakeLLM(models=("small", "large")) as server:
        yield server


def test_a_draft_runs_beside_the_active_version_streams_in_becomes_a_case_and_a_version(
    browser: Any,
    start_server: Callable[..., ServerProcess],
    registry: Registry,
    llm: FakeLLM,
    shots: Path,
) -> None:
    add_provider(registry, llm, prices={"small": {"input": 0.15, "output": 0.6}})
    llm.script(Answer(pieces=WARM_ANSWER, piece_ms=250), marker="refund when late")
    llm.script(
        Answer(text="Your parcel is on its way.", pieces=("Your parcel ", "is on its way.")),
        model="small",
    )
    registry.create_prompt(
        CreatePrompt(
            "support-reply",
            content=PLAIN,
            description="First answer to a ticket",
            version_name="first",
        ),
        SYSTEM,
    )
    registry.create_version(
        CreateVersion(
            "support-reply",
            content=PLAIN,
            contract=CONTRACT,
            activate=True,
            version_name="with-contract",
        ),
        SYSTEM,
    )
    active = registry.get_active("support-reply", SYSTEM)[1]
    evaluations_of(registry).create_test_set(
        "smoke",
        "support-reply",
        [Case({"company": "Acme", "customer": "Bo", "question": "Hi"})],
        SYSTEM,
    )
    server = start_server(env={"PROMPTDECK_ALLOW_OUTGOING": LOOPBACK})
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    problems = watch_errors(page)

    page.goto(f"{server.url}/ui/prompts/support-reply")
    page.get_by_role("link", name="Playground").click()
    page.get_by_label("Compare with").select_option(str(active.id))
    page.get_by_role("button", name="Load").click()
    page.get_by_label("Text", exact=True).fill(WARM)
    page.get_by_label("company").fill("Acme")
    page.get_by_label("customer").fill("Ada")
    page.get_by_label("question").fill("My parcel is a week late.")
    page.get_by_label("Provider and model").select_option("local/small")
    page.get_by_role("button", name="Run both").click()

    draft = page.locator('.pane[data-target="draft"]')
    # Streaming: part of the answer is there while the run is still going.
    streaming = (
        "() => { const p = document.querySelector('.pane[data-target=\"draft\"]');"
        " return p.getAttribute('aria-busy') === 'true'"
        " && p.querySelector('.answer').textContent; }"
    )
    page.wait_for_function(streaming)
    draft.locator(".run-meta").get_by_text("ms").wait_for()
    assert draft.locator(".answer").inner_text() == "".join(WARM_ANSWER)
    other = page.locator(f'.pane[data-target="{active.id}"]')
    other.locator(".run-meta").get_by_text("ms").wait_for()
    assert other.locator(".answer").inner_text() == "Your parcel is on its way."
    page.screenshot(path=str(shots / "playground.png"), full_page=True)

    # The run, made a test case with its answer as the expected one, in one click.
    page.get_by_role("button", name="Add these variables as a case").click()
    page.get_by_text("Added a case to smoke (now version 2)").wait_for()
    cases = evaluations_of(registry).list_cases("smoke", SYSTEM).items
    assert cases[-1].case.expected == "".join(WARM_ANSWER)
    assert cases[-1].case.variables["customer"] == "Ada"

    # The draft, saved as a new version with what changed, in one click.
    page.get_by_label("What changed").fill("Warmer; refunds late parcels")
    page.get_by_role("button", name="Save as new version").click()
    page.get_by_role("heading", name="Version #3").wait_for()
    newest = registry.list_versions("support-reply", SYSTEM, limit=1).items[0]
    assert newest.description == "Warmer; refunds late parcels"
    assert registry.get_version("support-reply", newest.id, SYSTEM).content == WARM
    assert problems == []
    context.close()

    # From the keyboard: Ctrl+Enter in the template runs it; on a phone nothing overflows.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{server.url}/ui/prompts/support-reply/playground")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the playground scrolls sideways by {overflow}px"
    for label, value in (("company", "Acme"), ("customer", "Cy"), ("question", "Where?")):
        page.get_by_label(label).fill(value)
    page.get_by_label("Text", exact=True).focus()
    page.keyboard.press("Control+Enter")
    page.locator('.pane[data-target="draft"] .run-meta').get_by_text("ms").wait_for()
    page.screenshot(path=str(shots / "playground-phone.png"), full_page=True)
    context.close()
