"""/webhooks over the real app and database: admins manage hooks, nobody else; input is
checked before anything is written; the secret is shown once and nowhere after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from promptdeck import limits
from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.server import create_app
from tests.api.helpers import assert_problem, create_prompt


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    """No delivery worker: these tests read the queue, they do not send."""
    return settings.model_copy(update={"webhooks_deliver": False})


@pytest.fixture
def http(quiet: Settings, registry: Registry) -> Iterator[TestClient]:
    with TestClient(create_app(quiet, registry), raise_server_exceptions=False) as client:
        yield client


def deliveries(registry: Registry) -> list[tuple[int, str]]:
    with registry.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT hook_id, kind FROM webhook_deliveries ORDER BY id"))
        return [(int(r.hook_id), r.kind) for r in rows]


def test_an_admin_manages_a_hook_and_its_secret_is_shown_only_when_created(
    http: TestClient, registry: Registry
) -> None:
    create_prompt(http, "support-reply")
    made = http.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["label.moved"], "description": "ci"},
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(secret) >= 40
    assert made.headers["location"] == f"/webhooks/{hook['id']}"
    assert hook["events"] == ["label.moved"] and hook["prompt_id"] is None

    patched = http.patch(
        f"/webhooks/{hook['id']}",
        json={"events": ["*"], "enabled": False, "secret": "a rotated secret value"},
    )
    assert patched.status_code == 200
    assert patched.json()["events"] == ["*"] and patched.json()["enabled"] is False
    http.patch(f"/webhooks/{hook['id']}", json={"enabled": True})
    http.post("/prompts/support-reply/versions", json={"content": "two"})
    test = http.post(f"/webhooks/{hook['id']}/test")
    assert test.status_code == 202 and test.json()["kind"] == "webhook.test"

    answers = [
        http.get("/webhooks"),
        http.get(f"/webhooks/{hook['id']}"),
        http.get(f"/webhooks/{hook['id']}/deliveries"),
        http.get("/events"),
        http.get("/prompts/support-reply/export"),
        patched,
        test,
    ]
    assert all(a.status_code == 200 or a.status_code == 202 for a in answers)
    for answer in answers:
        assert secret not in answer.text and "a rotated secret value" not in answer.text
        assert '"secret"' not in answer.text
    log = http.get(f"/webhooks/{hook['id']}/deliveries").json()["items"]
    assert [d["kind"] for d in log] == ["webhook.test", "version.created"]
    assert all(d["status"] == "pending" and d["attempts"] == 0 for d in log)

    assert http.delete(f"/webhooks/{hook['id']}").status_code == 204
    assert_problem(http.get(f"/webhooks/{hook['id']}"), 404, "webhook-not-found")
    assert deliveries(registry) == []  # its pending deliveries went with it


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "https://user:pw@example.com/x"}, "url"),
        ({"url": "http://exa mple.com/"}, "url"),
        ({"url": "http://example.com:99999/"}, "url"),
        ({"url": "http://example.com/" + "a" * 2040}, "url"),
        ({"url": "http://example.com/", "events": ["version.nope"]}, "events"),
        ({"url": "http://example.com/", "events": []}, "events"),
        ({"url": "http://example.com/", "secret": "too short"}, "secret"),
        ({"url": "http://example.com/", "secret": "sixteen chars\nbut a newline"}, "secret"),
        ({"url": "http://example.com/", "surprise": 1}, "surprise"),
    ],
)
def test_a_bad_hook_is_a_422_problem_naming_its_field_and_writes_nothing(
    http: TestClient, registry: Registry, body: dict[str, object], field: str
) -> None:
    problem = assert_problem(http.post("/webhooks", json=body), 422)
    assert problem.get("field") == field or field in problem["detail"], problem
    if "secret" in body:
        assert str(body["secret"]) not in str(problem)  # never echoed
    assert http.get("/webhooks").json()["items"] == []


def test_unknown_hooks_and_prompts_are_404_problems(http: TestClient) -> None:
    assert_problem(http.get("/webhooks/99"), 404, "webhook-not-found")
    assert_problem(http.patch("/webhooks/99", json={"enabled": False}), 404, "webhook-not-found")
    assert_problem(http.delete("/webhooks/99"), 404, "webhook-not-found")
    assert_problem(http.post("/webhooks/99/test"), 404, "webhook-not-found")
    assert_problem(http.get("/webhooks/99/deliveries"), 404, "webhook-not-found")
    assert_problem(http.get("/webhooks/007"), 422)
    missing = http.post("/webhooks", json={"url": "http://127.0.0.1:9/", "prompt": "nope"})
    assert_problem(missing, 404, "prompt-not-found")


def test_writers_readers_and_prefix_limited_admins_cannot_manage_webhooks(
    quiet: Settings, registry: Registry
) -> None:
    access = Access(registry.engine)
    keys = {
        role: access.create_key(f"k-{role}", role).secret for role in ("admin", "write", "read")
    }
    keys["limited"] = access.create_key("k-team", "admin", prefixes=["team-"]).secret
    statuses: dict[str, list[int]] = {}
    with TestClient(create_app(quiet, registry), raise_server_exceptions=False) as http:
        admin = {"Authorization": f"Bearer {keys['admin']}"}
        hook = http.post("/webhooks", json={"url": "http://127.0.0.1:9/"}, headers=admin).json()
        for who in ("write", "read", "limited", "admin"):
            auth = {"Authorization": f"Bearer {keys[who]}"}
            answers = [
                http.post("/webhooks", json={"url": "http://127.0.0.1:9/"}, headers=auth),
                http.get("/webhooks", headers=auth),
                http.get(f"/webhooks/{hook['id']}", headers=auth),
                http.patch(f"/webhooks/{hook['id']}", json={"enabled": True}, headers=auth),
                http.get(f"/webhooks/{hook['id']}/deliveries", headers=auth),
                http.post(f"/webhooks/{hook['id']}/test", headers=auth),
                http.get("/ui/webhooks", headers=auth),
            ]
            statuses[who] = [r.status_code for r in answers]
        nobody = http.get("/webhooks").status_code
    assert statuses["write"] == [403] * 7
    assert statuses["read"] == [403] * 7
    assert statuses["limited"] == [403] * 7
    assert statuses["admin"] == [201, 200, 200, 200, 200, 202, 200]
    assert nobody == 401


def test_a_prompts_hook_hears_only_that_prompt_and_a_refused_write_queues_nothing(
    http: TestClient, registry: Registry
) -> None:
    create_prompt(http, "mine")
    create_prompt(http, "other")
    own = http.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/", "prompt": "mine", "events": ["version.created"]},
    ).json()
    assert own["prompt_name"] == "mine"
    everything = http.post("/webhooks", json={"url": "http://127.0.0.1:9/"}).json()
    http.post("/prompts/mine/versions", json={"content": "2", "version_name": "v2"})
    http.post("/prompts/other/versions", json={"content": "2"})
    http.patch("/prompts/mine", json={"description": "edited"})
    before = deliveries(registry)
    taken = http.post("/prompts/mine/versions", json={"content": "3", "version_name": "v2"})
    assert_problem(taken, 409, "version-name-taken")
    assert deliveries(registry) == before  # the refused write's transaction queued nothing
    assert before == [
        (own["id"], "version.created"),
        (everything["id"], "version.created"),
        (everything["id"], "version.created"),
        (everything["id"], "prompt.updated"),
    ]


def test_purging_a_prompt_deletes_its_own_hooks_but_not_global_ones(
    http: TestClient, registry: Registry
) -> None:
    create_prompt(http, "gone")
    http.post("/webhooks", json={"url": "http://127.0.0.1:9/", "prompt": "gone"})
    kept = http.post("/webhooks", json={"url": "http://127.0.0.1:9/"}).json()
    assert http.delete("/prompts/gone").status_code == 204
    assert http.post("/prompts/gone/purge").status_code == 204
    assert [h["id"] for h in http.get("/webhooks").json()["items"]] == [kept["id"]]


def test_hooks_are_bounded_so_a_write_stays_cheap(http: TestClient) -> None:
    """Every write reads the hooks and queues a delivery per match: the number is capped."""
    for n in range(limits.WEBHOOKS_MAX):
        made = http.post("/webhooks", json={"url": f"http://127.0.0.1:9/{n}", "enabled": False})
        assert made.status_code == 201, made.text
    over = http.post("/webhooks", json={"url": "http://127.0.0.1:9/over"})
    assert_problem(over, 409, "too-many-webhooks")
    assert str(limits.WEBHOOKS_MAX) in over.json()["detail"]
    listed = http.get("/webhooks", params={"limit": 200}).json()["items"]
    assert len(listed) == limits.WEBHOOKS_MAX
    http.delete(f"/webhooks/{listed[0]['id']}")
    assert http.post("/webhooks", json={"url": "http://127.0.0.1:9/again"}).status_code == 201
