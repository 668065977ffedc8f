"""End to end in a real headless Chromium against a real `promptdeck serve`: a new user's
flows (create, save versions, compare, roll back, delete and restore, find a deleted prompt
and restore it), and screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion, DeletePrompt
from tests.support.server import ServerProcess
from tests.ui.conftest import LAPTOP, PHONE

pytestmark = pytest.mark.sqlite_only

FIRST = (
    "You are a support agent for {{ company }}.\n"
    "Answer the customer politely.\nSign as {{ agent }}."
)
SECOND = (
    "You are a friendly support agent for {{ company }}.\n"
    "Answer the customer politely and briefly.\nSign as {{ agent }}."
)
THIRD = SECOND + "\nNever promise a refund."


def seed_others(registry: Registry) -> None:
    """A few neighbours so the list looks like a real registry."""
    registry.create_prompt(
        CreatePrompt(
            "order-summary",
            description="Summarise an order for the confirmation email",
            tags=["email"],
            content="Summarise the order {{ order_id }} in two sentences.",
            model_config={"model": "gpt-4o-mini", "temperature": 0},
        ),
        Caller.local("sam"),
    )
    registry.create_prompt(
        CreatePrompt(
            "triage",
            description="Route incoming tickets to a team",
            tags=["support", "routing"],
            content="Classify the ticket: {{ ticket }}",
            model_config={"model": "gpt-4o", "temperature": 0},
        ),
        Caller.local("ana"),
    )


def watch_errors(page: Any) -> list[str]:
    """Script errors and CSP violations; a form refused with a 4xx is expected, not one."""
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and "responded with a status of 4" not in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def fill_editor(page: Any, content: str, name: str, description: str) -> None:
    page.get_by_label("Content", exact=True).fill(content)
    page.get_by_label("Version name").fill(name)
    page.get_by_label("Description").fill(description)


def test_a_new_user_creates_versions_compares_rolls_back_deletes_and_restores(
    browser: Any, server: ServerProcess, registry: Registry, shots: Path
) -> None:
    seed_others(registry)
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    problems = watch_errors(page)

    # The root leads to the list; a new prompt is one click away.
    page.goto(server.url + "/")
    assert page.url == server.url + "/ui/"
    page.get_by_role("link", name="New prompt").click()
    page.get_by_label("Name", exact=True).fill("support-reply")
    page.get_by_label("Description").fill("First answer to a support ticket")
    page.get_by_label("Tags").fill("support, email")
    page.get_by_label("Content", exact=True).fill(FIRST)
    page.get_by_label("Model config").fill('{"model": "gpt-4o", "temperature": 0.2}')
    page.get_by_label("Version name").fill("polite")
    page.get_by_label("Your name").fill("ana")
    page.get_by_role("button", name="Create prompt").click()
    page.get_by_text("Prompt created").wait_for()
    assert page.url.startswith(server.url + "/ui/prompts/support-reply")
    active = page.locator("section", has=page.get_by_role("heading", name="Active version"))
    assert "#1" in active.locator(".vlink").inner_text()
    assert "{{ company }}" in active.locator(".vars").inner_text()

    # Save a second version (not active), then a third, saved and activated.
    fill_editor(page, SECOND, "friendlier", "Warmer tone, shorter answers")
    page.get_by_label("Model config").fill('{"model": "gpt-4o", "temperature": 0.7}')
    page.get_by_role("button", name="Save as new version").click()
    page.get_by_text("New version saved. The active version did not change").wait_for()
    assert "#1" in active.locator(".vlink").inner_text()
    fill_editor(page, THIRD, "no-refunds", "Legal asked: no refund promises")
    page.get_by_role("button", name="Save and activate").click()
    page.get_by_text("New version saved and activated").wait_for()
    assert "#3" in active.locator(".vlink").inner_text()
    page.screenshot(path=str(shots / "prompt.png"), full_page=True)

    # A form that fails keeps what was typed and says why.
    page.get_by_label("Content", exact=True).fill("Kept text {{ x }}")
    page.get_by_label("Version name").fill("polite")
    page.get_by_role("button", name="Save as new version").click()
    assert page.get_by_role("alert").inner_text().startswith("Version name:")
    assert page.get_by_label("Content", exact=True).input_value() == "Kept text {{ x }}"

    # History: three versions, newest first; compare the second with its predecessor.
    page.get_by_role("link", name="History", exact=True).click()
    titles = page.locator(".versions .tl-title").all_inner_texts()
    assert [t.split()[0] for t in titles] == ["#3", "#2", "#1"]
    assert "active" in titles[0].lower()
    page.locator(".versions li").nth(1).get_by_role("link", name="Compare with previous").click()
    marks = page.locator(".diff mark").all_inner_texts()
    assert marks == ["friendly", "and briefly"]
    assert "temperature" in page.locator("table.changes").inner_text()
    page.screenshot(path=str(shots / "compare.png"), full_page=True)
    page.get_by_label("Unified").check()
    page.get_by_role("button", name="Compare").click()
    assert page.locator(".diff.unified .row.insert").count() >= 2

    # Roll back to #1 from the history, through a confirmation that shows the change.
    page.get_by_role("link", name="History", exact=True).click()
    page.locator(".versions li").nth(2).get_by_role("link", name="Roll back to this…").click()
    page.get_by_role("heading", name=re.compile("Roll back to version #1")).wait_for()
    assert "Never promise a refund." in page.locator(".diff").inner_text()
    page.screenshot(path=str(shots / "rollback.png"), full_page=True)
    page.get_by_role("button", name="Roll back to #1").click()
    page.get_by_text("Rolled back").wait_for()
    assert "#1" in active.locator(".vlink").inner_text()
    assert "Answer the customer politely." in page.locator("#active-content").inner_text()
    page.get_by_role("link", name="History", exact=True).click()
    assert "Rolled back to #1" in page.locator(".activity").inner_text()
    assert "by ana" in page.locator(".versions").inner_text()
    page.screenshot(path=str(shots / "history.png"), full_page=True)

    # Delete, then restore from the page that confirms the delete.
    page.get_by_role("link", name="Overview", exact=True).click()
    page.get_by_role("link", name="Delete prompt…").click()
    page.get_by_role("button", name="Delete prompt").click()
    page.get_by_role("heading", name="support-reply was deleted").wait_for()
    page.get_by_role("button", name="Restore support-reply").click()
    page.get_by_text("Prompt restored").wait_for()
    assert "#1" in active.locator(".vlink").inner_text()

    # Delete it again and, later, find it in the deleted prompts and restore it from there.
    page.get_by_role("link", name="Delete prompt…").click()
    page.get_by_role("button", name="Delete prompt").click()
    page.get_by_role("heading", name="support-reply was deleted").wait_for()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prompts").click()
    assert "support-reply" not in page.locator(".prompt-list").inner_text()
    tab = page.get_by_role("navigation", name="Prompt lists").get_by_role(
        "link", name="Deleted prompts"
    )
    tab.focus()  # a link in the tab order: reachable and usable from the keyboard
    page.keyboard.press("Enter")
    page.wait_for_url(server.url + "/ui/?deleted=1")
    assert tab.get_attribute("aria-current") == "page"
    row = page.locator(".prompt-item", has_text="support-reply")
    assert "deleted\njust now" in row.inner_text().lower()  # when it was deleted
    assert page.locator(".prompt-item h2").all_inner_texts() == ["support-reply"]
    page.get_by_label("Search deleted prompts").fill("nothing like it")
    page.get_by_role("button", name="Search").click()
    page.get_by_text("No deleted prompt matches").wait_for()
    page.get_by_label("Search deleted prompts").fill("support")
    page.get_by_role("button", name="Search").click()
    page.screenshot(path=str(shots / "deleted.png"), full_page=True)
    row.get_by_role("button", name="Restore support-reply").click()
    page.get_by_text("Prompt restored").wait_for()
    assert page.url.startswith(server.url + "/ui/prompts/support-reply")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prompts").click()
    page.get_by_role("link", name="Deleted prompts").click()
    page.get_by_role("heading", name="No deleted prompts").wait_for()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prompts").click()
    assert page.locator(".prompt-item h2").all_inner_texts() == [
        "order-summary",
        "triage",
        "support-reply",
    ]
    page.screenshot(path=str(shots / "prompts.png"), full_page=True)
    assert problems == []
    context.close()


def test_pages_fit_a_phone_and_work_from_the_keyboard(
    browser: Any, server: ServerProcess, registry: Registry, shots: Path
) -> None:
    seed_others(registry)
    registry.create_prompt(
        CreatePrompt("support-reply", content=FIRST, model_config={"temperature": 0.2}), SYSTEM
    )
    registry.create_version(
        CreateVersion(
            "support-reply", content=SECOND, model_config={"temperature": 0.7}, description="Warmer"
        ),
        SYSTEM,
    )
    registry.create_prompt(
        CreatePrompt("old-greeting", description="Replaced by support-reply", content=FIRST), SYSTEM
    )
    registry.delete_prompt(DeletePrompt("old-greeting"), SYSTEM)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems = watch_errors(page)
    for path, shot in [
        ("/ui/", "prompts-phone"),
        ("/ui/?deleted=1", "deleted-phone"),
        ("/ui/prompts/support-reply", "prompt-phone"),
        ("/ui/prompts/support-reply/versions", "history-phone"),
        ("/ui/prompts/support-reply/compare", "compare-phone"),
    ]:
        page.goto(server.url + path)
        # clientWidth: on a mobile browser innerWidth grows with content that is too wide.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        page.screenshot(path=str(shots / f"{shot}.png"), full_page=True)
    assert page.locator(".diff mark").count() > 0
    context.close()

    # Keyboard: the skip link comes first, then every control can be reached and used.
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(server.url + "/ui/prompts/support-reply")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Content", exact=True).focus()
    page.keyboard.press("End")
    page.keyboard.type(" {{ tone }}")
    assert "{{ tone }}" in page.locator("#vars-live").inner_text()
    page.keyboard.press("Control+Enter")
    page.get_by_text("New version saved").wait_for()
    assert problems == []
    context.close()


def test_a_form_too_large_to_save_says_so_and_keeps_the_text(
    browser: Any, start_server: Any, registry: Registry
) -> None:
    server = start_server(env={"PROMPTDECK_MAX_BODY_BYTES": "2048"})
    registry.create_prompt(CreatePrompt("support-reply", content=FIRST), SYSTEM)
    page = browser.new_page(viewport=LAPTOP)
    problems = watch_errors(page)
    page.goto(server.url + "/ui/prompts/support-reply")
    big = FIRST + "\n" + "Be thorough. " * 300
    fill_editor(page, big, "too-big", "")
    page.get_by_role("button", name="Save as new version").click()
    alert = page.locator(".size-error")
    alert.wait_for()
    assert "at most 2,048 bytes" in alert.inner_text()
    assert page.get_by_label("Content", exact=True).input_value() == big
    assert page.url.endswith("/ui/prompts/support-reply")
    assert len(registry.list_versions("support-reply", SYSTEM).items) == 1
    # Trimmed under the limit, the same form saves.
    page.get_by_label("Content", exact=True).fill(SECOND)
    page.get_by_role("button", name="Save as new version").click()
    page.get_by_text("New version saved").wait_for()
    assert page.locator(".size-error").count() == 0
    assert len(registry.list_versions("support-reply", SYSTEM).items) == 2
    assert problems == []
    page.close()
