"""The providers page over the real app and database, without a browser: the list, adding
one with a key (stored, never shown), a refusal that names the field, removing one."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.ui.test_pages import text_of

KEY = "sk-pdtest-ui-provider-key-0004"
URL = "https://llm.example.com/v1"  # a public name: configured, never called


def test_an_admin_adds_a_provider_with_a_key_sees_it_stored_and_removes_it(
    api: TestClient,
) -> None:
    page = api.get("/ui/providers")
    assert page.status_code == 200 and "No providers yet" in page.text
    assert 'href="/ui/providers"' in page.text  # in the navigation
    form = {"name": "cloud", "base_url": URL, "models": "gpt-x, gpt-y", "api_key": KEY}
    added = api.post("/ui/providers", data=form, follow_redirects=False)
    assert added.status_code == 303, added.text
    listed = api.get(added.headers["location"])
    text = text_of(listed.text)
    assert "Provider added." in text and "gpt-x, gpt-y" in text and "stored" in text
    assert KEY not in listed.text
    env = {"name": "env", "base_url": URL, "models": "m", "api_key_env": "OPENAI_API_KEY"}
    assert api.post("/ui/providers", data=env).status_code == 200
    assert "$OPENAI_API_KEY" in api.get("/ui/providers").text
    removed = api.post("/ui/providers/cloud/delete", follow_redirects=False)
    assert removed.status_code == 303
    after = text_of(api.get(removed.headers["location"]).text)
    assert "Provider removed." in after and "cloud" not in after.split("Add a provider")[0]


def test_a_bad_provider_is_refused_with_a_page_that_names_the_problem_and_not_the_key(
    api: TestClient,
) -> None:
    form = {"name": "x", "base_url": URL, "models": "m", "api_key": "has a space " + KEY}
    refused = api.post("/ui/providers", data=form)
    assert refused.status_code == 422 and "printable ASCII" in refused.text
    assert KEY not in refused.text
    bad_url = {"name": "x", "base_url": "http://10.0.0.1/v1", "models": "m"}
    assert "may not be reached" in api.post("/ui/providers", data=bad_url).text
    assert "No providers yet" in api.get("/ui/providers").text
