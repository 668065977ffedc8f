"""In Chromium: a writer proposes a production move and sees the diff; an admin approves it
in the UI; the timeline shows the deploy (issue 14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion, MoveLabel, ProtectLabel
from tests.support.server import ServerProcess
from tests.ui.conftest import LAPTOP
from tests.ui.test_browser import watch_errors

pytestmark = pytest.mark.sqlite_only


def test_a_writer_requests_a_production_move_and_an_admin_approves_it_in_the_ui(
    browser: Any, server: ServerProcess, registry: Registry, shots: Path
) -> None:
    registry.create_prompt(
        CreatePrompt("support-reply", content="Hello.\nBe polite."), Caller.local("ana")
    )
    v2 = registry.create_version(
        CreateVersion("support-reply", content="Hello!\nBe brief."), Caller.local("ana")
    )
    first = registry.get_prompt("support-reply", SYSTEM).active_version_id
    registry.move_label(MoveLabel("support-reply", "production", first), Caller.local("ana"))
    registry.protect_label(ProtectLabel("support-reply", "production", True), SYSTEM)
    page = browser.new_context(viewport=LAPTOP).new_page()
    problems = watch_errors(page)

    page.goto(server.url + "/ui/prompts/support-reply")
    assert "production → #1" in page.locator("#labels").text_content()
    page.get_by_role("link", name="Promote…").click()
    row = page.locator("#label-production")
    row.get_by_role("combobox").select_option(str(v2.version.id))
    row.get_by_role("button", name="Promote…").click()
    diff = page.locator(".diff").inner_text()
    assert "Be brief." in diff and "Be polite." in diff
    page.locator("#reason").fill("shorter answers")
    page.get_by_label("Your name").fill("wri")
    page.get_by_role("button", name="Request this deploy").click()
    assert page.locator("#req-status").text_content() == "open"
    assert "Be brief." in page.locator(".diff").inner_text()
    page.screenshot(path=str(shots / "deploy-request.png"), full_page=True)

    page.get_by_label("Your name").fill("adm")
    page.get_by_role("button", name="Approve and move production").click()
    assert page.locator("#req-status").text_content() == "approved"
    page.get_by_role("link", name="All labels and deploys").click()
    timeline = page.locator(".timeline.deploys").inner_text()
    assert "production: #1 → #2" in timeline and "by adm" in timeline
    page.screenshot(path=str(shots / "labels.png"), full_page=True)
    assert registry.get_active("support-reply", SYSTEM, "production")[1].id == v2.version.id
    assert problems == []
