"""The UI pages over the real app and database, without a browser: statuses, content, forms."""

from __future__ import annotations

import html
import re

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion, DeletePrompt, UpdatePrompt

CONTENT = "Hello {{ name }},\nYou are rude.\nBye"


def etag_of(page: str) -> str:
    found = re.search(r'name="etag" value="([^"]*)"', page)
    assert found is not None
    return html.unescape(found.group(1))


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def make(registry: Registry, name: str = "greet", **kw: object) -> int:
    kw.setdefault("content", CONTENT)
    kw.setdefault("model_config", {"model": "m", "temperature": 0.2})
    return registry.create_prompt(CreatePrompt(name, **kw), SYSTEM).prompt.active_version_id  # type: ignore[arg-type]


def test_the_root_redirects_to_the_ui_and_the_list_shows_active_version_and_search(
    api: TestClient, registry: Registry
) -> None:
    assert api.get("/", follow_redirects=False).headers["location"] == "/ui/"
    assert "No prompts yet" in api.get("/ui/").text
    make(registry, "greet", description="Says hello", version_name="first")
    make(registry, "farewell", description="Says goodbye")
    page = api.get("/ui/")
    assert page.status_code == 200
    assert "greet" in page.text and "farewell" in page.text and "first" in page.text
    found = text_of(api.get("/ui/", params={"q": "hello"}).text)
    assert "greet" in found and "farewell" not in found
    assert "No prompt matches" in api.get("/ui/", params={"q": "nothing"}).text


def test_the_list_pages_with_a_next_link(api: TestClient, registry: Registry) -> None:
    for i in range(21):
        make(registry, f"p{i:02d}")
    first = api.get("/ui/").text
    assert "p19" in first and "p20" not in first
    next_link = re.search(r'href="([^"]+)">Next page', first)
    assert next_link is not None
    second = api.get(html.unescape(next_link.group(1))).text
    assert "p20" in second and "p19" not in second and "First page" in second


def test_pages_send_security_headers_and_no_inline_script_or_style(
    api: TestClient, registry: Registry
) -> None:
    make(registry)
    for path in ["/ui/", "/ui/new", "/ui/prompts/greet", "/ui/prompts/greet/versions", "/ui/x"]:
        response = api.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-type"].startswith("text/html")
        assert " style=" not in response.text
        assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None
    css = api.get("/ui/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert api.get("/ui/static/nope.js").status_code == 404


def test_prompt_text_is_shown_as_data_never_run_as_a_template(
    api: TestClient, registry: Registry
) -> None:
    make(registry, content="{{ 7 * 7 }} {% if 1 %}x{% endif %} <script>alert(1)</script> {{ who }}")
    page = api.get("/ui/prompts/greet").text
    shown = re.search(r'id="active-content">([^<]*)</pre>', page)
    assert shown is not None
    assert html.unescape(shown.group(1)).startswith("{{ 7 * 7 }} {% if 1 %}x{% endif %} <script>")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ who }}" in page  # listed as a variable


def test_creating_a_prompt_redirects_to_it_and_lists_its_variables(api: TestClient) -> None:
    form = {
        "name": "greet",
        "content": CONTENT + " {{ sender }} {{name}}",
        "model_config": '{"model": "m"}',
        "tags": "a, b",
        "actor": "ana",
    }
    created = api.post("/ui/new", data=form, follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"] == "/ui/prompts/greet?done=created"
    page = api.get(created.headers["location"]).text
    assert "Prompt created" in page
    assert re.findall(r"<code>\{\{ (\w+) \}\}</code>", page)[:2] == ["name", "sender"]
    history = text_of(api.get("/ui/prompts/greet/versions").text)
    assert "Created the prompt ana" in history


def test_a_refused_create_form_keeps_the_typed_values_and_says_why(
    api: TestClient, registry: Registry
) -> None:
    typed = {"name": "Bad Name", "content": "Typed <text>", "model_config": "{}"}
    bad = api.post("/ui/new", data=typed)
    assert bad.status_code == 422
    assert "Name: use lowercase letters, digits" in text_of(bad.text)
    assert "Typed &lt;text&gt;</textarea>" in bad.text and 'value="Bad Name"' in bad.text
    json_bad = api.post("/ui/new", data={"name": "ok", "model_config": "{oops"})
    assert json_bad.status_code == 422
    assert "Model config: not valid JSON" in text_of(json_bad.text)
    not_object = api.post("/ui/new", data={"name": "ok", "model_config": "[1]"})
    assert "must be a JSON object" in text_of(not_object.text)
    make(registry)
    taken = api.post("/ui/new", data={"name": "greet", "content": "again"})
    assert taken.status_code == 409
    assert "again</textarea>" in taken.text


def test_save_as_version_keeps_the_active_one_and_save_and_activate_changes_it(
    api: TestClient, registry: Registry
) -> None:
    first = make(registry)
    page = api.get("/ui/prompts/greet").text
    form = {"etag": etag_of(page), "content": "v2 {{ x }}", "model_config": '{"t": 1}'}
    saved = api.post(
        "/ui/prompts/greet",
        data={**form, "action": "version", "version_name": "two", "description": "why"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "done=version" in saved.headers["location"]
    prompt, active = registry.get_active("greet", SYSTEM)
    assert active.id == first and prompt.content == "v2 {{ x }}"
    assert registry.list_versions("greet", SYSTEM).items[0].version_name == "two"
    assert "New version saved" in api.get(saved.headers["location"]).text

    page = api.get("/ui/prompts/greet").text
    activated = api.post(
        "/ui/prompts/greet",
        data={**form, "etag": etag_of(page), "content": "v3", "action": "activate"},
        follow_redirects=False,
    )
    assert activated.status_code == 303
    assert registry.get_active("greet", SYSTEM)[1].content == "v3"

    draft = api.post(
        "/ui/prompts/greet",
        data={
            "etag": etag_of(api.get("/ui/prompts/greet").text),
            "content": "draft",
            "action": "save",
        },
        follow_redirects=False,
    )
    assert draft.status_code == 303
    assert registry.get_prompt("greet", SYSTEM).content == "draft"
    assert registry.get_active("greet", SYSTEM)[1].content == "v3"


def test_a_stale_editor_is_refused_readably_and_keeps_the_typed_text(
    api: TestClient, registry: Registry
) -> None:
    make(registry)
    stale = etag_of(api.get("/ui/prompts/greet").text)
    registry.update_prompt(UpdatePrompt("greet", {"content": "someone else"}), SYSTEM)
    refused = api.post(
        "/ui/prompts/greet",
        data={"etag": stale, "content": "mine", "model_config": "{}", "action": "version"},
    )
    assert refused.status_code == 412
    assert "Someone else changed this prompt" in text_of(refused.text)
    assert "mine</textarea>" in refused.text
    assert etag_of(refused.text) != stale  # a second submit, now informed, goes through
    assert len(registry.list_versions("greet", SYSTEM).items) == 1


def test_a_taken_version_name_is_refused_and_the_text_kept(
    api: TestClient, registry: Registry
) -> None:
    make(registry, version_name="one")
    page = api.get("/ui/prompts/greet").text
    refused = api.post(
        "/ui/prompts/greet",
        data={"etag": etag_of(page), "content": "new", "version_name": "one", "action": "version"},
    )
    assert refused.status_code == 409
    message = text_of(refused.text)
    assert "Version name: version name 'one' is already used" in message
    assert "new</textarea>" in refused.text  # the form keeps what was typed
    assert registry.get_prompt("greet", SYSTEM).content != "new"  # and nothing was half-saved
    assert len(registry.list_versions("greet", SYSTEM).items) == 1


def test_save_as_version_saves_the_working_copy_in_the_same_step(
    api: TestClient, registry: Registry
) -> None:
    make(registry)
    page = api.get("/ui/prompts/greet").text
    done = api.post(
        "/ui/prompts/greet",
        data={"etag": etag_of(page), "content": "fresh", "model_config": "{}", "action": "version"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert registry.get_prompt("greet", SYSTEM).content == "fresh"
    assert registry.list_versions("greet", SYSTEM).items[0].number == 2
    kinds = [e.kind for e in registry.list_events("greet", SYSTEM).items]
    assert "prompt.updated" not in kinds


def test_history_version_and_compare_pages(api: TestClient, registry: Registry) -> None:
    first = make(registry, version_name="rude")
    second = registry.create_version(
        CreateVersion(
            "greet",
            content=CONTENT.replace("rude", "kind"),
            model_config={"model": "m", "temperature": 0.7, "top_p": 1},
            version_name="kind",
            description="Be nicer",
        ),
        Caller.local("bo"),
    ).version.id
    history = text_of(api.get("/ui/prompts/greet/versions").text)
    assert history.index("#2 kind") < history.index("#1 rude")
    assert "Be nicer" in history and "by bo" in history

    version = api.get(f"/ui/prompts/greet/versions/{second}")
    assert version.status_code == 200
    assert "You are kind." in version.text and "Be nicer" in version.text
    assert f"compare?a={first}&amp;b={second}" in version.text

    compare = api.get(f"/ui/prompts/greet/compare?a=prev&b={second}")
    assert compare.status_code == 200
    assert "<mark>rude</mark>" in compare.text and "<mark>kind</mark>" in compare.text
    changes = text_of(compare.text)
    assert "temperature changed 0.2 0.7" in changes and "top_p added" in changes
    unified = api.get(f"/ui/prompts/greet/compare?a={first}&b={second}&view=unified")
    assert 'class="diff unified"' in unified.text
    assert "identical" in api.get(f"/ui/prompts/greet/compare?a={first}&b={first}").text
    assert api.get("/ui/prompts/greet/compare").status_code == 200
    bad = api.get("/ui/prompts/greet/compare?a=zzz")
    assert bad.status_code == 422 and "a:" in text_of(bad.text)


def test_missing_things_are_readable_pages_not_json(api: TestClient, registry: Registry) -> None:
    make(registry)
    other = make(registry, "other")
    for path, words in [
        ("/ui/prompts/nope", "Prompt not found"),
        (f"/ui/prompts/greet/versions/{other}", "Version not found"),
        ("/ui/prompts/greet/versions/abc", "Page not found"),
        ("/ui/no/such/page", "Page not found"),
    ]:
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert words in response.text


def test_rollback_confirms_with_a_diff_then_changes_the_active_version(
    api: TestClient, registry: Registry
) -> None:
    first = make(registry)
    registry.create_version(CreateVersion("greet", content="newer text", activate=True), SYSTEM)
    confirm = api.get(f"/ui/prompts/greet/versions/{first}/rollback")
    assert confirm.status_code == 200
    assert "What will change" in confirm.text and "<mark>newer text</mark>" in confirm.text
    done = api.post(
        f"/ui/prompts/greet/versions/{first}/rollback",
        data={"etag": etag_of(confirm.text), "actor": "ana"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "done=rolled-back" in done.headers["location"]
    assert done.cookies.get("promptdeck_actor") == "ana"
    assert registry.get_active("greet", SYSTEM)[1].id == first
    rolled = registry.list_events("greet", SYSTEM).items[0]
    assert (rolled.kind, rolled.actor) == ("version.rolled_back", "ana")
    assert "Rolled back" in api.get(done.headers["location"]).text
    again = api.get(f"/ui/prompts/greet/versions/{first}/rollback")
    assert "already active" in again.text


def test_a_stale_rollback_is_refused_readably(api: TestClient, registry: Registry) -> None:
    first = make(registry)
    registry.create_version(CreateVersion("greet", content="two", activate=True), SYSTEM)
    stale = etag_of(api.get(f"/ui/prompts/greet/versions/{first}/rollback").text)
    registry.create_version(CreateVersion("greet", content="three", activate=True), SYSTEM)
    refused = api.post(f"/ui/prompts/greet/versions/{first}/rollback", data={"etag": stale})
    assert refused.status_code == 412
    assert "Someone else changed this prompt" in text_of(refused.text)
    assert registry.get_active("greet", SYSTEM)[1].content == "three"


def test_delete_then_restore_from_the_confirmation_page(
    api: TestClient, registry: Registry
) -> None:
    make(registry)
    confirm = api.get("/ui/prompts/greet/delete")
    assert "Delete greet?" in confirm.text
    deleted = api.post(
        "/ui/prompts/greet/delete", data={"etag": etag_of(confirm.text)}, follow_redirects=False
    )
    assert deleted.headers["location"] == "/ui/deleted/greet"
    gone = api.get("/ui/deleted/greet")
    assert 'action="/ui/prompts/greet/restore"' in gone.text
    missing = api.get("/ui/prompts/greet")
    assert missing.status_code == 404
    assert 'href="/ui/deleted/greet"' in missing.text  # the way back, even later
    assert "greet" not in text_of(api.get("/ui/").text).replace("promptdeck", "")
    restored = api.post("/ui/prompts/greet/restore", follow_redirects=False)
    assert restored.headers["location"] == "/ui/prompts/greet?done=restored"
    assert "Prompt restored" in api.get(restored.headers["location"]).text
    assert api.post("/ui/prompts/greet/restore", follow_redirects=False).status_code == 303
    assert api.post("/ui/prompts/nope/restore").status_code == 404


def test_the_deleted_view_lists_deleted_prompts_with_when_and_a_restore_button(
    api: TestClient, registry: Registry
) -> None:
    empty = api.get("/ui/", params={"deleted": "1"})
    assert empty.status_code == 200 and "No deleted prompts" in empty.text
    live = api.get("/ui/").text
    assert 'href="/ui/?deleted=1">Deleted prompts</a>' in live  # the way there, from the list
    make(registry, "greet", description="Says hello")
    make(registry, "farewell", description="Says goodbye")
    make(registry, "kept")
    registry.delete_prompt(DeletePrompt("greet"), SYSTEM)
    registry.delete_prompt(DeletePrompt("farewell"), SYSTEM)
    page = api.get("/ui/", params={"deleted": "1"})
    assert page.status_code == 200
    assert 'href="/ui/?deleted=1" aria-current="page"' in page.text
    shown = text_of(page.text)
    assert "greet" in shown and "farewell" in shown and "kept" not in shown
    assert "Deleted just now" in shown
    for name in ("greet", "farewell"):
        assert f'action="/ui/prompts/{name}/restore"' in page.text
    assert 'href="/ui/prompts/greet"' not in page.text  # a deleted prompt's page is a 404
    assert "greet" not in text_of(api.get("/ui/").text).replace("promptdeck", "")
    # Search stays in the deleted view.
    assert '<input type="hidden" name="deleted" value="1">' in page.text
    found = text_of(api.get("/ui/", params={"deleted": "1", "q": "hello"}).text)
    assert "greet" in found and "farewell" not in found
    none = api.get("/ui/", params={"deleted": "1", "q": "kept"}).text
    assert "No deleted prompt matches" in none
    # Restore from the list: the existing action, which leads to the restored prompt.
    restored = api.post("/ui/prompts/greet/restore", follow_redirects=False)
    assert restored.headers["location"] == "/ui/prompts/greet?done=restored"
    after = text_of(api.get("/ui/", params={"deleted": "1"}).text)
    assert "farewell" in after and "greet" not in after.replace("promptdeck", "")
    assert api.get("/ui/", params={"deleted": "perhaps"}).status_code == 400


def test_the_deleted_view_pages_and_its_links_stay_in_the_deleted_view(
    api: TestClient, registry: Registry
) -> None:
    for i in range(21):
        make(registry, f"p{i:02d}")
        registry.delete_prompt(DeletePrompt(f"p{i:02d}"), SYSTEM)
    first = api.get("/ui/", params={"deleted": "1"}).text
    assert "p19" in first and "p20" not in first
    next_link = re.search(r'href="([^"]+)">Next page', first)
    assert next_link is not None and "deleted=1" in html.unescape(next_link.group(1))
    second = api.get(html.unescape(next_link.group(1))).text
    assert "p20" in second and "p19" not in second
    first_link = re.search(r'href="([^"]+)">← First page', second)
    assert first_link is not None and html.unescape(first_link.group(1)) == "/ui/?deleted=1"


def test_the_actor_comes_from_the_form_the_cookie_the_header_or_is_web(
    api: TestClient, registry: Registry
) -> None:
    api.post("/ui/new", data={"name": "a1"})
    api.post("/ui/new", data={"name": "a2"}, headers={"X-Actor": "robot"})
    api.post("/ui/new", data={"name": "a3", "actor": "ana"})
    api.post("/ui/new", data={"name": "a4"})  # the cookie set by the previous form
    actors = [registry.list_events(n, SYSTEM).items[-1].actor for n in ("a1", "a2", "a3", "a4")]
    assert actors == ["web", "robot", "ana", "ana"]


def test_a_form_posted_from_another_site_is_refused(api: TestClient, registry: Registry) -> None:
    first = make(registry)
    registry.create_version(CreateVersion("greet", content="two", activate=True), SYSTEM)
    url = f"/ui/prompts/greet/versions/{first}/rollback"
    for headers in [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "same-site"},
    ]:
        refused = api.post(url, headers=headers, follow_redirects=False)
        assert refused.status_code == 403
        assert "sent from another site" in refused.text
    assert registry.get_active("greet", SYSTEM)[1].content == "two"
    behind_proxy = {"Sec-Fetch-Site": "same-origin", "Origin": "https://deck.example"}
    same = api.post(url, headers=behind_proxy, follow_redirects=False)
    assert same.status_code == 303
    assert registry.get_active("greet", SYSTEM)[1].id == first


def test_a_form_over_the_body_limit_gets_a_readable_page_not_json(
    api: TestClient, registry: Registry
) -> None:
    make(registry)
    before = len(registry.list_versions("greet", SYSTEM).items)
    response = api.post(
        "/ui/prompts/greet",
        data={"content": "x" * (70 * 1024), "model_config": "{}", "action": "save"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    text = text_of(response.text)
    assert "Too large to save" in text and "65,536 bytes" in text
    assert "your text is still in the form" in text
    assert len(registry.list_versions("greet", SYSTEM).items) == before
    # The API keeps answering with a problem document.
    api_response = api.post("/prompts/greet/versions", json={"content": "x" * (70 * 1024)})
    assert api_response.headers["content-type"].startswith("application/problem+json")


def test_pages_tell_the_browser_the_body_limit(api: TestClient, registry: Registry) -> None:
    make(registry)
    assert 'data-max-body="65536"' in api.get("/ui/prompts/greet").text


def test_ui_prompts_mirrors_the_api_path_and_leads_to_the_list(
    api: TestClient, registry: Registry
) -> None:
    make(registry)
    response = api.get("/ui/prompts", params={"deleted": 1}, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/?deleted=1"
    assert "greet" in api.get("/ui/prompts").text
