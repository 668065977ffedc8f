"""Alert rules on the impact page (issue 16): a signed-in writer adds, replaces and removes
a rule through the page's forms (the same core operations as the API), a form without its
CSRF token is refused, bad input comes back on the page with what was typed, and a reader
sees the rules but no form and cannot post one."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, SetAlert
from promptdeck.server import create_app

PASSWORD = "a long enough password"
RULE = {"label": "active", "min_success": "0.9", "window_minutes": "15", "min_count": "20"}


def sign_in(browser: TestClient, name: str, prompt: str) -> str:
    """Signs in; the CSRF token of the prompt's impact page."""
    form = browser.get("/ui/sign-in").text
    token = form.split('name="csrf" value="')[1].split('"')[0]
    done = browser.post(
        "/ui/sign-in",
        data={"name": name, "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = browser.get(f"/ui/prompts/{prompt}/impact")
    assert page.status_code == 200
    return str(page.text.split('name="csrf" value="')[1].split('"')[0])


def rules_of(registry: Registry, prompt: str) -> list[tuple[str, float, int, int]]:
    return [
        (r.label, r.min_success, r.window_minutes, r.min_count)
        for r in registry.list_alerts(prompt, SYSTEM)
    ]


def test_a_writer_adds_replaces_and_removes_an_alert_rule_with_the_impact_page_forms(
    settings: Settings, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("checkout", content="Be helpful."), Caller.local("setup"))
    Access(registry.engine).create_user("wes", "write", PASSWORD)
    with TestClient(create_app(settings, registry)) as browser:
        csrf = sign_in(browser, "wes", "checkout")
        page = browser.get("/ui/prompts/checkout/impact").text
        assert 'id="alert-rule-form"' in page and "No alert rules" in page
        # The label choice offers the labels the prompt knows: active and protected production.
        assert re.findall(r'<option value="([a-z]+)"', page.split('id="rule-label"')[1])[:2] == [
            "active",
            "production",
        ]

        refused = browser.post("/ui/prompts/checkout/alerts", data=RULE)
        assert refused.status_code == 403  # no CSRF token
        assert rules_of(registry, "checkout") == []

        saved = browser.post(
            "/ui/prompts/checkout/alerts", data={**RULE, "csrf": csrf}, follow_redirects=False
        )
        assert saved.status_code == 303
        assert saved.headers["location"] == "/ui/prompts/checkout/impact?done=alert-saved"
        assert rules_of(registry, "checkout") == [("active", 0.9, 15, 20)]
        [stored] = registry.list_alerts("checkout", SYSTEM)
        assert stored.created_by == "wes" and stored.created_at is not None
        shown = browser.get(saved.headers["location"]).text
        assert "Alert rule saved." in shown
        row = shown.split('<tr data-label="active">')[1].split("</tr>")[0]
        assert "90.0%" in row and "15 min" in row and ">20<" in row and "by wes" in row

        replaced = browser.post(
            "/ui/prompts/checkout/alerts",
            data={"label": "production", "min_success": "0.75", "csrf": csrf},
        )
        assert replaced.status_code == 200  # the redirect, followed
        browser.post(
            "/ui/prompts/checkout/alerts",
            data={**RULE, "min_success": "0.8", "window_minutes": "30", "csrf": csrf},
        )
        assert rules_of(registry, "checkout") == [
            ("active", 0.8, 30, 20),
            ("production", 0.75, 15, 20),  # the defaults of an empty window and count
        ]

        removed = browser.post(
            "/ui/prompts/checkout/alerts/production/remove", follow_redirects=False
        )
        assert removed.status_code == 403  # no CSRF token
        removed = browser.post(
            "/ui/prompts/checkout/alerts/production/remove",
            data={"csrf": csrf},
            follow_redirects=False,
        )
        assert removed.status_code == 303
        assert removed.headers["location"].endswith("done=alert-removed")
        assert rules_of(registry, "checkout") == [("active", 0.8, 30, 20)]
        again = browser.post("/ui/prompts/checkout/alerts/production/remove", data={"csrf": csrf})
        assert again.status_code == 404
        assert "No alert on label &#39;production&#39;." in again.text
    events = {e.kind for e in registry.list_events("checkout", SYSTEM).items}
    assert "impact.alert" not in events


def test_bad_alert_rules_come_back_on_the_page_with_what_was_typed_and_nothing_saved(
    settings: Settings, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("checkout", content="Be helpful."), Caller.local("setup"))
    Access(registry.engine).create_user("wes", "write", PASSWORD)
    with TestClient(create_app(settings, registry)) as browser:
        csrf = sign_in(browser, "wes", "checkout")
        cases = [
            ({"min_success": "2"}, 422, "Min success: input should be less than or equal to 1."),
            ({"min_success": "nan"}, 422, "Min success: input should be a finite number."),
            ({"min_success": ""}, 422, "Min success: field required."),
            ({"window_minutes": "0"}, 422, "Window: input should be greater than or equal to 1."),
            ({"min_count": "many"}, 422, "Min count: input should be a valid integer"),
            ({"label": "staging"}, 404, "no label &#39;staging&#39; to watch: set it first."),
            ({"label": "Not A Label"}, 422, "must be a lowercase slug"),
        ]
        for change, status, message in cases:
            typed = {**RULE, **change}
            answer = browser.post("/ui/prompts/checkout/alerts", data={**typed, "csrf": csrf})
            assert answer.status_code == status, change
            assert 'role="alert" id="form-error"' in answer.text
            assert message in answer.text, (change, answer.text.split('id="form-error">')[1][:200])
            form = answer.text.split('id="alert-rule-form"')[1]
            for field in ("min_success", "window_minutes", "min_count"):
                assert f'name="{field}" type="number"' in form
                assert f'value="{typed[field]}"' in form, (change, field)
        assert rules_of(registry, "checkout") == []


def test_a_reader_sees_the_alert_rules_but_no_form_and_cannot_post_one(
    settings: Settings, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("checkout", content="Be helpful."), Caller.local("setup"))
    registry.set_alert(
        SetAlert("checkout", "active", min_success=0.9, window_minutes=15, min_count=20),
        Caller.local("ana"),
    )
    Access(registry.engine).create_user("rita", "read", PASSWORD)
    with TestClient(create_app(settings, registry)) as browser:
        csrf = sign_in(browser, "rita", "checkout")
        page = browser.get("/ui/prompts/checkout/impact").text
        row = page.split('<tr data-label="active">')[1].split("</tr>")[0]
        assert "90.0%" in row and "by ana" in row
        assert 'id="alert-rule-form"' not in page and "/remove" not in page
        set_ = browser.post(
            "/ui/prompts/checkout/alerts", data={**RULE, "min_success": "0.1", "csrf": csrf}
        )
        remove = browser.post("/ui/prompts/checkout/alerts/active/remove", data={"csrf": csrf})
        assert (set_.status_code, remove.status_code) == (403, 403)
    assert rules_of(registry, "checkout") == [("active", 0.9, 15, 20)]


def test_on_an_open_server_a_rule_form_posted_from_another_site_is_refused(
    api: TestClient, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("checkout", content="Be helpful."), Caller.local("setup"))
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        refused = api.post("/ui/prompts/checkout/alerts", data=RULE, headers=headers)
        assert refused.status_code == 403
    assert rules_of(registry, "checkout") == []
    saved = api.post("/ui/prompts/checkout/alerts", data={**RULE, "actor": "Ana"})
    assert saved.status_code == 200 and "by Ana" in saved.text  # same-site: saved
