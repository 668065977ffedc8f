"""The webhooks pages: a signed-in admin adds a hook (its secret shown once, on the answer
itself), sends a test and sees it in the delivery log; forms need their CSRF token; other
roles get no page."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.server import create_app

PASSWORD = "a long enough password"


def sign_in(browser: TestClient, name: str) -> str:
    form = browser.get("/ui/sign-in").text
    token = form.split('name="csrf" value="')[1].split('"')[0]
    done = browser.post(
        "/ui/sign-in",
        data={"name": name, "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = browser.get("/ui/webhooks")
    if page.status_code != 200:
        return ""
    return str(page.text.split('name="csrf" value="')[1].split('"')[0])


def test_an_admin_adds_a_hook_sends_a_test_and_reads_the_log_in_the_ui(
    settings: Settings, registry: Registry
) -> None:
    access = Access(registry.engine)
    access.create_user("ana", "admin", PASSWORD)
    access.create_user("wes", "write", PASSWORD)
    quiet = settings.model_copy(update={"webhooks_deliver": False})
    with TestClient(create_app(quiet, registry)) as browser:
        csrf = sign_in(browser, "ana")
        assert 'href="/ui/webhooks"' in browser.get("/ui/").text
        refused = browser.post("/ui/webhooks", data={"url": "http://127.0.0.1:9/"})
        assert refused.status_code == 403  # no CSRF token
        made = browser.post(
            "/ui/webhooks",
            data={
                "url": "http://127.0.0.1:9/hook",
                "events": ["label.moved", "version.rolled_back"],
                "description": "chat-ops",
                "csrf": csrf,
            },
        )
        assert made.status_code == 200
        secret = made.text.split('<code class="secret">')[1].split("<")[0]
        assert secret.startswith("whsec_")
        with registry.engine.connect() as conn:
            hook_id = conn.execute(sa.text("SELECT id FROM webhooks")).scalar_one()
        page = browser.get(f"/ui/webhooks/{hook_id}").text
        assert "label.moved, version.rolled_back" in page and secret not in page
        assert secret not in browser.get("/ui/webhooks").text
        tested = browser.post(f"/ui/webhooks/{hook_id}/test", data={"csrf": csrf})
        assert tested.status_code == 200 and "Test delivery queued." in tested.text
        assert "webhook.test" in tested.text and "not sent yet" in tested.text
        paused = browser.post(
            f"/ui/webhooks/{hook_id}/enabled", data={"enabled": "false", "csrf": csrf}
        )
        assert "paused" in paused.text
        bad = browser.post("/ui/webhooks", data={"url": "ftp://nope", "csrf": csrf})
        assert bad.status_code == 422 and "http" in bad.text
        gone = browser.post(f"/ui/webhooks/{hook_id}/delete", data={"csrf": csrf})
        assert "No webhooks yet." in gone.text

    with TestClient(create_app(quiet, registry)) as writer:
        sign_in(writer, "wes")
        assert writer.get("/ui/webhooks").status_code == 403
        assert 'href="/ui/webhooks"' not in writer.get("/ui/").text
