"""In a real Chromium against a real server with keys and people: a reader sees no write
button and a forged write is refused; a writer saves and rolls back; signing out; names in
several scripts; /docs works with every outside request blocked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from tests.support.load import figure
from tests.support.server import ServerProcess
from tests.ui.conftest import LAPTOP
from tests.ui.test_browser import watch_errors

pytestmark = pytest.mark.sqlite_only

PASSWORD = "a long enough password"
SCRIPTS = ["Zoë", "Мария", "李雷", "فاطمة", "Ἀθηνᾶ", "उमा"]


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(url + "/ui/")
    assert "/ui/sign-in" in page.url  # a closed server sends a stranger to sign in
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


def test_a_reader_sees_no_write_button_and_a_forged_write_is_refused_a_writer_rolls_back(
    browser: Any, server: ServerProcess, registry: Registry, shots: Path
) -> None:
    registry.create_prompt(CreatePrompt("support-reply", content="First"), Caller.local("setup"))
    registry.create_version(
        CreateVersion("support-reply", content="Second", activate=True), Caller.local("setup")
    )
    access = Access(registry.engine)
    access.create_user("rita", "read", PASSWORD)
    access.create_user("wes", "write", PASSWORD)
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    problems = watch_errors(page)

    sign_in(page, server.url, "rita")
    page.get_by_role("link", name="support-reply").first.click()
    assert page.get_by_role("button", name="Save as new version").count() == 0
    assert page.get_by_role("link", name="New prompt").count() == 0
    assert page.get_by_role("link", name=re.compile("Delete")).count() == 0
    page.get_by_role("link", name="History", exact=True).click()
    assert page.get_by_role("link", name=re.compile("Roll back")).count() == 0
    page.screenshot(path=str(shots / "reader-history.png"), full_page=True)
    token = page.locator('form.sign-out input[name="csrf"]').input_value()
    forged = page.evaluate(
        """async (token) => {
            const form = new URLSearchParams({csrf: token});
            const ui = await fetch('/ui/prompts/support-reply/versions/1/rollback',
                                   {method: 'POST', body: form});
            const api = await fetch('/prompts/support-reply/versions/1/rollback',
                                    {method: 'POST'});
            return [ui.status, api.status];
        }""",
        token,
    )
    assert forged == [403, 403]
    assert registry.get_active("support-reply", SYSTEM)[1].content == "Second"
    sign_out(page)
    page.goto(server.url + "/ui/prompts/support-reply")
    assert "/ui/sign-in" in page.url

    sign_in(page, server.url, "wes")
    page.goto(server.url + "/ui/prompts/support-reply")
    assert page.get_by_label("Your name").count() == 0  # the history names the person
    page.get_by_label("Content", exact=True).fill("Third")
    page.get_by_role("button", name="Save and activate").click()
    page.get_by_text("New version saved and activated").wait_for()
    page.get_by_role("link", name="History", exact=True).click()
    page.locator(".versions li").nth(2).get_by_role("link", name="Roll back to this…").click()
    page.get_by_role("button", name="Roll back to #1").click()
    page.get_by_text("Rolled back").wait_for()
    assert registry.get_active("support-reply", SYSTEM)[1].content == "First"
    actors = {e.actor for e in registry.list_events("support-reply", SYSTEM).items}
    assert actors == {"setup", "wes"}
    sign_out(page)
    assert problems == []
    context.close()


def test_people_named_in_several_scripts_sign_in_and_the_history_names_them(
    browser: Any, server: ServerProcess, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("greet", content="Hello"), Caller.local("setup"))
    access = Access(registry.engine)
    for name in SCRIPTS:
        access.create_user(name, "write", PASSWORD)
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    problems = watch_errors(page)
    for name in SCRIPTS:
        sign_in(page, server.url, name)
        assert name in page.locator(".sign-out .who").inner_text()
        page.goto(server.url + "/ui/prompts/greet")
        page.get_by_label("Content", exact=True).fill(f"Hello from {name}")
        page.get_by_role("button", name="Save as new version").click()
        page.get_by_text("New version saved").wait_for()
        sign_out(page)
    versions = registry.list_versions("greet", SYSTEM).items
    named = [v.created_by for v in reversed(versions)][1:]
    figure(
        "names in scripts",
        f"{len(named)}/{len(SCRIPTS)} people in {len(SCRIPTS)} scripts "
        "signed in and saved a version under their own name",
    )
    assert named == SCRIPTS
    assert problems == []
    context.close()


def test_the_api_docs_work_with_every_outside_request_blocked(
    browser: Any, server: ServerProcess
) -> None:
    context = browser.new_context(viewport=LAPTOP)
    outside: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    problems = watch_errors(page)
    response = page.goto(server.url + "/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.get_by_text("/prompts/{prompt_id}/versions/{version_id}/rollback").first.wait_for()
    assert outside == [] and problems == []
    context.close()
