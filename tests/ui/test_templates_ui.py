"""Templates in the UI: the chat editor, a version's variables, includes as links, the
preview rendered on the server, chat versions compared message by message."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from tests.support.server import ServerProcess
from tests.ui.conftest import LAPTOP
from tests.ui.test_pages import text_of


def chat_form(*rows: tuple[str, str], **extra: str) -> dict[str, str]:
    form = {"action": "save", "activate": "on", **extra}
    for i, (role, content) in enumerate(rows):
        form[f"role.{i}"], form[f"content.{i}"] = role, content
    return form


def test_a_chat_version_is_written_as_messages_and_shown_with_its_variables(
    api: TestClient, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("support", content="x"), SYSTEM)
    assert "New chat version" in api.get("/ui/prompts/support/chat").text
    form = chat_form(
        ("system", "You answer for {{company}}."),
        ("placeholder", "history"),
        ("user", "{{question}}"),
        ("user", ""),  # an empty row is left out
    )
    r = api.post("/ui/prompts/support/chat", data=form, follow_redirects=True)
    assert r.status_code == 200
    _, active = registry.get_active("support", SYSTEM)
    assert active.kind == "chat" and len(active.messages or []) == 3
    page = text_of(r.text)
    assert "{{ company }}" in page and "{{ history }}" in page and "{{ question }}" in page
    assert "filled at render time" in page


def test_a_bad_chat_form_comes_back_with_the_rows_and_the_reason(
    api: TestClient, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("support", content="x"), SYSTEM)
    r = api.post("/ui/prompts/support/chat", data=chat_form(("placeholder", "not a name")))
    assert r.status_code == 422
    assert "placeholder" in text_of(r.text) and "not a name" in r.text


def test_the_preview_renders_sample_values_on_the_server_and_never_as_html(
    api: TestClient, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("tone", content="Be kind."), SYSTEM)
    registry.create_prompt(CreatePrompt("greet", content="x"), SYSTEM)
    greet = registry.create_version(
        CreateVersion("greet", content="Hi {{who}}! {{> tone}}", activate=True), SYSTEM
    )
    page = api.get(f"/ui/prompts/greet/versions/{greet.version.id}").text
    assert 'href="/ui/prompts/tone"' in page  # the include is a link
    r = api.post(
        f"/ui/prompts/greet/versions/{greet.version.id}", data={"var.who": "<b>{{who}}</b>"}
    )
    assert r.status_code == 200
    assert "Hi &lt;b&gt;{{who}}&lt;/b&gt;! Be kind." in r.text
    missing = api.post(f"/ui/prompts/greet/versions/{greet.version.id}", data={})
    assert "missing variables: who" in text_of(missing.text)


def test_chat_versions_are_compared_message_by_message(api: TestClient, registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("support", content="x"), SYSTEM)
    a = registry.create_version(
        CreateVersion(
            "support",
            kind="chat",
            messages=[
                {"role": "system", "content": "Be kind."},
                {"role": "user", "content": "{{q}}"},
            ],
        ),
        SYSTEM,
    )
    b = registry.create_version(
        CreateVersion(
            "support",
            kind="chat",
            messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "{{q}}"},
            ],
        ),
        SYSTEM,
    )
    page = api.get(f"/ui/prompts/support/compare?a={a.version.id}&b={b.version.id}").text
    assert "system · changed" in text_of(page) and "user · equal" in text_of(page)


def test_the_preview_follows_the_typing_in_a_browser(
    browser: Any, start_server: Any, registry: Registry
) -> None:
    server: ServerProcess = start_server()
    registry.create_prompt(CreatePrompt("greet", content="x"), SYSTEM)
    created = registry.create_version(
        CreateVersion(
            "greet",
            kind="chat",
            messages=[
                {"role": "system", "content": "Be {{tone}}."},
                {"role": "user", "content": "{{q}}"},
            ],
            activate=True,
        ),
        SYSTEM,
    )
    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{server.url}/ui/prompts/greet/versions/{created.version.id}")
    page.get_by_label("tone").fill("brief")
    page.get_by_label("q", exact=True).fill("{{tone}}?")
    page.locator("#preview-out").get_by_text("Be brief.").wait_for()
    page.locator("#preview-out").get_by_text("{{tone}}?").wait_for()
    page.close()


def test_a_new_chat_prompt_starts_with_its_system_message_in_the_chat_editor(
    api: TestClient, registry: Registry
) -> None:
    form = {"name": "support", "content": "You answer for {{company}}.", "chat": "on"}
    r = api.post("/ui/new", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/prompts/support/chat")
    editor = api.get(r.headers["location"]).text
    assert "You answer for {{company}}." in editor
    rows = chat_form(("system", "You answer for {{company}}."), ("user", "{{question}}"))
    api.post("/ui/prompts/support/chat", data=rows)
    _, active = registry.get_active("support", SYSTEM)
    assert active.kind == "chat" and active.variables == ["company", "question"]
    assert registry.get_prompt("support", SYSTEM).version_count == 2
