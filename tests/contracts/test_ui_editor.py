"""The web editor takes a contract as JSON text: a bad one comes back on the form with the
core's reason naming its path, and nothing is saved; a good one is the version's. The deploy
request page shows the contract's changes above the text diff."""

from __future__ import annotations

import html
import json
import re

from starlette.testclient import TestClient

from tests.contracts.helpers import CONTRACT, TEMPLATE, with_required
from tests.contracts.test_ui import text_of

BAD = {"variables": {"type": "object", "properties": {"age": {"type": "integr"}}}}


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, name
    return html.unescape(found.group(1))


def etag_of(page: str) -> str:
    found = re.search(r'name="etag" value="([^"]*)"', page)
    assert found is not None
    return html.unescape(found.group(1))


def breaking_pair(api: TestClient) -> tuple[int, int]:
    """A prompt "reply" whose active version v1 has CONTRACT and whose v2 adds a required
    variable (a breaking change); (v1, v2)."""
    api.post("/prompts", json={"name": "reply", "content": TEMPLATE, "contract": CONTRACT})
    v1 = api.get("/prompts/reply/active").json()["version_id"]
    stricter = with_required(CONTRACT, "order_id", {"type": "string"})
    body = {"content": TEMPLATE + " {{order_id}}", "contract": stricter}
    return v1, api.post("/prompts/reply/versions", json=body).json()["id"]


def test_a_new_prompt_with_a_bad_contract_is_refused_naming_the_path_and_nothing_is_saved(
    api: TestClient,
) -> None:
    typed = {"name": "reply", "content": TEMPLATE, "contract": json.dumps(BAD)}
    refused = api.post("/ui/new", data=typed)
    assert refused.status_code == 422
    shown = text_of(refused.text)
    assert "Contract: contract.variables.properties.age.type" in shown
    assert textarea(refused.text, "contract") == typed["contract"]  # kept as typed
    assert api.get("/prompts/reply").status_code == 404
    for text, reason in [("{oops", "Contract: not valid JSON"), ("[1]", "must be a JSON object")]:
        again = api.post("/ui/new", data={**typed, "contract": text})
        assert again.status_code == 422 and reason in text_of(again.text)
    assert api.get("/prompts/reply").status_code == 404


def test_a_new_prompt_with_a_good_contract_keeps_it_on_its_first_version(
    api: TestClient,
) -> None:
    typed = {"name": "reply", "content": TEMPLATE, "contract": json.dumps(CONTRACT)}
    created = api.post("/ui/new", data=typed, follow_redirects=False)
    assert created.status_code == 303, created.text
    active = api.get("/prompts/reply/active").json()
    assert active["contract"] == {**CONTRACT, "variables_inferred": False}


def test_the_editor_starts_from_the_active_contract_and_a_bad_one_saves_no_version(
    api: TestClient,
) -> None:
    api.post(
        "/ui/new", data={"name": "reply", "content": TEMPLATE, "contract": json.dumps(CONTRACT)}
    )
    page = api.get("/ui/prompts/reply").text
    assert json.loads(textarea(page, "contract")) == CONTRACT
    form = {"etag": etag_of(page), "content": TEMPLATE, "action": "version"}
    refused = api.post("/ui/prompts/reply", data={**form, "contract": json.dumps(BAD)})
    assert refused.status_code == 422
    assert "Contract: contract.variables.properties.age.type" in text_of(refused.text)
    assert textarea(refused.text, "contract") == json.dumps(BAD)
    assert len(api.get("/prompts/reply/versions").json()["items"]) == 1
    stricter = with_required(CONTRACT, "order_id", {"type": "string"})
    body = {**form, "content": TEMPLATE + " {{order_id}}", "contract": json.dumps(stricter)}
    saved = api.post("/ui/prompts/reply", data=body, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    newest = api.get("/prompts/reply/versions").json()["items"][0]["id"]
    read = api.get(f"/prompts/reply/versions/{newest}").json()
    assert read["contract"]["variables"] == stricter["variables"]


def test_a_version_without_a_contract_leaves_the_editor_blank_and_the_chat_editor_takes_one(
    api: TestClient,
) -> None:
    api.post("/ui/new", data={"name": "plain", "content": "Hi {{name}}"})
    assert textarea(api.get("/ui/prompts/plain").text, "contract") == ""
    tools = {"tools": CONTRACT["tools"]}
    chat = {"role.0": "system", "content.0": "Hi {{name}}", "action": "save", "activate": "on"}
    refused = api.post("/ui/prompts/plain/chat", data={**chat, "contract": '{"tools": 3}'})
    assert refused.status_code == 422 and "Contract: contract.tools" in text_of(refused.text)
    assert len(api.get("/prompts/plain/versions").json()["items"]) == 1
    saved = api.post(
        "/ui/prompts/plain/chat",
        data={**chat, "contract": json.dumps(tools)},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert api.get("/prompts/plain/active").json()["contract"]["tools"] == CONTRACT["tools"]


def test_the_deploy_request_page_shows_the_breaking_contract_change_above_the_text_diff(
    api: TestClient,
) -> None:
    v1, v2 = breaking_pair(api)
    assert api.put("/prompts/reply/labels/production", json={"version_id": v1}).status_code == 200
    proposed = api.post(
        "/prompts/reply/deploy-requests",
        json={"label": "production", "version_id": v2, "reason": "ship"},
    )
    assert proposed.status_code == 201, proposed.text
    page = api.get(f"/ui/prompts/reply/deploy-requests/{proposed.json()['id']}").text
    shown = text_of(page)
    assert "Contract breaking" in shown
    assert "variables.order_id variable new and required breaking" in shown
    assert page.index("contract-changes-h") < page.index('id="req-diff-h"')


def test_approving_a_breaking_deploy_in_the_ui_needs_the_accept_box_and_moves_with_it(
    api: TestClient,
) -> None:
    v1, v2 = breaking_pair(api)
    api.put("/prompts/reply/labels/production", json={"version_id": v1})
    promote = api.get("/ui/prompts/reply/promote", params={"label": "production", "v": v2}).text
    assert 'name="accept_breaking"' in promote and "Contract breaking" in text_of(promote)
    proposed = api.post(
        "/prompts/reply/deploy-requests",
        json={"label": "production", "version_id": v2, "reason": "ship"},
        headers={"X-Actor": "bo"},
    ).json()
    approve = f"/ui/prompts/reply/deploy-requests/{proposed['id']}/approve"
    assert 'name="accept_breaking"' in api.get(approve.removesuffix("/approve")).text
    refused = api.post(approve, headers={"X-Actor": "ana"})
    assert refused.status_code == 409
    assert "Accept the breaking change: moving 'production'" in text_of(refused.text)
    production = "/prompts/reply/labels/production"
    assert api.get(production).json()["version_id"] == v1
    moved = api.post(
        approve, data={"accept_breaking": "on"}, headers={"X-Actor": "ana"}, follow_redirects=False
    )
    assert moved.status_code == 303, moved.text
    assert api.get(production).json()["version_id"] == v2


def test_a_breaking_rollback_of_a_protected_active_offers_the_accept_box_once_refused(
    api: TestClient,
) -> None:
    stricter = with_required(CONTRACT, "order_id", {"type": "string"})
    body = {"name": "reply", "content": TEMPLATE + " {{order_id}}", "contract": stricter}
    api.post("/prompts", json=body)
    v1 = api.get("/prompts/reply/active").json()["version_id"]
    v2 = api.post("/prompts/reply/versions", json={"content": TEMPLATE, "contract": CONTRACT})
    v2 = v2.json()["id"]
    assert api.post(f"/prompts/reply/versions/{v2}/rollback").is_success  # compatible
    assert api.patch("/prompts/reply/labels/active", json={"protected": True}).is_success
    page = f"/ui/prompts/reply/versions/{v1}/rollback"
    confirm = api.get(page).text
    assert "Contract breaking" in text_of(confirm) and 'name="accept_breaking"' not in confirm
    refused = api.post(page, data={"etag": etag_of(confirm)}, headers={"X-Actor": "ana"})
    assert refused.status_code == 409
    assert 'name="accept_breaking"' in refused.text
    assert api.get("/prompts/reply/active").json()["version_id"] == v2
    done = api.post(
        page,
        data={"etag": etag_of(refused.text), "accept_breaking": "on"},
        headers={"X-Actor": "ana"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert api.get("/prompts/reply/active").json()["version_id"] == v1


def test_a_breaking_rollout_of_a_protected_label_from_the_page_needs_the_accept_box(
    api: TestClient,
) -> None:
    v1, v2 = breaking_pair(api)
    api.put("/prompts/reply/labels/production", json={"version_id": v1})
    promote = api.get("/ui/prompts/reply/promote", params={"label": "production", "v": v2}).text
    rollout_form = promote[promote.index('id="rollout-form"') :]
    assert 'name="accept_breaking"' in rollout_form[: rollout_form.index("</form>")]
    form = {"version_id": str(v2), "steps": "10, 100", "max_drop": "0.05", "minutes": "0"}
    url = "/ui/prompts/reply/labels/production/rollout"
    refused = api.post(url, data=form, headers={"X-Actor": "ana"})
    assert refused.status_code == 409, refused.text
    assert api.get("/prompts/reply/labels/production/rollout").status_code == 404
    started = api.post(url, data={**form, "accept_breaking": "on"}, headers={"X-Actor": "ana"})
    assert started.status_code == 200 and "Rollout started." in started.text
    assert api.get("/prompts/reply/labels/production/rollout").json()["status"] == "running"
