"""/providers over the API, on the run's database: a key goes in sealed and never comes out,
the runner sends it, a PUT keeps or rotates it, bad input names its field, and a server
whose secret key cannot seal or open it says so (409), never a 500."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.domain.sealing import new_key
from promptdeck.server import create_app
from promptdeck.store.engine import create_engine
from tests.evaluations.helpers import make_set, script_refunds, start, two_versions, wait
from tests.support.fake_llm import FakeLLM

KEY = "sk-pdtest-first-provider-key-0001"  # the sweep's shape (tests/support/secrets_sweep.py)
ROTATED = "sk-pdtest-rotated-provider-key-0002"
SHORT = {"connect_s": 2, "read_s": 3, "total_s": 4}


def body(llm: FakeLLM, name: str = "local", **extra: Any) -> dict[str, Any]:
    found = {"name": name, "base_url": llm.url, "models": list(llm.models), "timeouts": SHORT}
    return found | extra


def sealed_in_database(database_url: str, name: str) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT api_key_sealed FROM providers WHERE name = :n")
            found: str | None = conn.execute(query, {"n": name}).scalar_one()
            return found
    finally:
        engine.dispose()


def test_a_key_added_is_stored_sealed_and_no_answer_shows_it(
    api: TestClient, database_url: str, llm: FakeLLM
) -> None:
    added = api.post("/providers", json=body(llm, api_key=KEY))
    assert added.status_code == 201, added.text
    assert added.headers["Location"] == "/providers/local"
    assert added.json()["api_key"] == "stored" and added.json()["api_key_env"] is None
    shown = [added, api.get("/providers"), api.get("/providers/local")]
    assert all(r.status_code == 200 or r is added for r in shown)
    assert not any(KEY in r.text for r in shown)
    assert api.get("/providers").json()[0]["api_key"] == "stored"
    sealed = sealed_in_database(database_url, "local")
    assert sealed is not None and KEY not in sealed and len(sealed) > len(KEY)


def test_an_evaluation_sends_the_stored_key_as_its_bearer_token(
    api: TestClient, llm: FakeLLM, name: str
) -> None:
    assert api.post("/providers", json=body(llm, api_key=KEY)).status_code == 201
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    make_set(api, "smoke", name, 2)
    found = wait(api, start(api, name, [plain, refund], "smoke")["id"])
    assert found["status"] == "completed", found
    sent = {r.headers.get("authorization") for r in llm.received()}
    assert sent == {f"Bearer {KEY}"}


def test_a_put_keeps_the_key_unsent_rotates_a_new_one_and_drops_it_on_null(
    api: TestClient, database_url: str, llm: FakeLLM, name: str
) -> None:
    assert api.post("/providers", json=body(llm, api_key=KEY)).status_code == 201
    first = sealed_in_database(database_url, "local")
    changed = body(llm, prices={"m": {"input": 1, "output": 2}})
    del changed["name"]
    kept = api.put("/providers/local", json=changed)
    assert kept.status_code == 200, kept.text
    assert kept.json()["api_key"] == "stored" and kept.json()["prices"]["m"]["output"] == 2
    assert sealed_in_database(database_url, "local") == first
    rotated = api.put("/providers/local", json=changed | {"api_key": ROTATED})
    assert rotated.status_code == 200 and ROTATED not in rotated.text
    assert sealed_in_database(database_url, "local") not in (None, first)
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    make_set(api, "smoke", name, 1)
    assert wait(api, start(api, name, [plain, refund], "smoke")["id"])["status"] == "completed"
    assert {r.headers.get("authorization") for r in llm.received()} == {f"Bearer {ROTATED}"}
    dropped = api.put("/providers/local", json=changed | {"api_key": None})
    assert dropped.json()["api_key"] is None
    assert sealed_in_database(database_url, "local") is None


def test_a_key_from_the_environment_is_named_and_not_stored(
    api: TestClient, database_url: str, llm: FakeLLM
) -> None:
    added = api.post("/providers", json=body(llm, api_key_env="LOCAL_LLM_API_KEY"))
    assert added.status_code == 201, added.text
    assert (added.json()["api_key"], added.json()["api_key_env"]) == (None, "LOCAL_LLM_API_KEY")
    assert sealed_in_database(database_url, "local") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Not A Slug"}, "name"),
        ({"base_url": "http://10.1.2.3/v1"}, "base_url"),  # not allowed: a private address
        ({"models": []}, "models"),
        ({"api_key": "sk-pdtest-with a space"}, "api_key"),
        ({"api_key": KEY, "api_key_env": "OPENAI_API_KEY"}, "api_key"),
        ({"api_key_env": "PROMPTDECK_DATABASE_URL"}, "api_key_env"),
        ({"timeouts": {"connect_s": 0}}, "timeouts"),
        ({"prices": {"other": {"input": 1, "output": 1}}}, "prices"),
        ({"retry": {"attempts": 9}}, "retry"),
    ],
)
def test_bad_input_is_a_422_naming_its_field_and_never_quoting_a_key(
    api: TestClient, llm: FakeLLM, change: dict[str, Any], field: str
) -> None:
    refused = api.post("/providers", json=body(llm) | change)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["field"].startswith(field), problem
    assert "sk-pdtest" not in refused.text
    assert api.get("/providers").json() == []


def test_remove_answers_204_then_404_and_409_while_an_evaluation_names_it(
    api: TestClient, llm: FakeLLM, name: str
) -> None:
    assert api.post("/providers", json=body(llm, name="spare")).status_code == 201
    assert api.delete("/providers/spare").status_code == 204
    assert api.get("/providers/spare").status_code == 404
    assert api.delete("/providers/spare").status_code == 404
    assert api.post("/providers", json=body(llm)).status_code == 201
    assert api.post("/providers", json=body(llm)).status_code == 409  # the name is taken
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    make_set(api, "smoke", name, 1)
    wait(api, start(api, name, [plain, refund], "smoke")["id"])
    in_use = api.delete("/providers/local")
    assert in_use.status_code == 409 and in_use.json()["type"].endswith("provider-in-use")


def test_a_server_that_cannot_keep_its_secret_key_refuses_to_store_a_key_with_a_409(
    settings: Settings, registry: Registry, llm: FakeLLM, tmp_path: Path
) -> None:
    nowhere = settings.model_copy(update={"secret_key_file": str(tmp_path / "no" / "such.key")})
    with TestClient(create_app(nowhere, registry), raise_server_exceptions=False) as api:
        refused = api.post("/providers", json=body(llm, api_key=KEY))
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("provider-key-unusable")
        assert "secret key file" in refused.json()["detail"] and KEY not in refused.text
        assert api.get("/providers").json() == []
        # A provider without a stored key needs no secret key.
        assert api.post("/providers", json=body(llm)).status_code == 201


def test_a_stored_key_the_server_cannot_open_fails_the_evaluation_with_why(
    settings: Settings, registry: Registry, llm: FakeLLM, name: str
) -> None:
    with TestClient(create_app(settings, registry)) as api:
        assert api.post("/providers", json=body(llm, api_key=KEY)).status_code == 201
    other = settings.model_copy(update={"secret_key": SecretStr(new_key())})  # not the file's
    with TestClient(create_app(other, registry), raise_server_exceptions=False) as api:
        plain, refund = two_versions(api, name)
        make_set(api, "smoke", name, 1)
        found = wait(api, start(api, name, [plain, refund], "smoke")["id"])
    assert found["status"] == "failed", found
    assert "sealed with another secret key" in found["error"] and KEY not in str(found)
    assert llm.received() == []


@pytest.mark.sqlite_only
def test_on_sqlite_the_secret_key_file_is_made_beside_the_database_readable_by_its_owner_only(
    registry: Registry, database_url: str, llm: FakeLLM
) -> None:
    beside = Settings(database_url=database_url, allow_outgoing="127.0.0.1")
    path = Path(database_url.removeprefix("sqlite:///") + ".key")
    assert not path.exists()
    with TestClient(create_app(beside, registry)) as api:
        assert api.post("/providers", json=body(llm, name="a")).status_code == 201
        assert not path.exists()  # no key stored yet: no file
        assert api.post("/providers", json=body(llm, name="b", api_key=KEY)).status_code == 201
    assert path.exists() and os.stat(path).st_mode & 0o777 == 0o600
    assert KEY.encode() not in path.read_bytes()


def test_a_run_sends_the_stored_key_as_its_bearer_token(
    api: TestClient, llm: FakeLLM, name: str
) -> None:
    assert api.post("/providers", json=body(llm, api_key=KEY)).status_code == 201
    made = api.post("/prompts", json={"name": name, "content": "Answer: {{q}}"})
    assert made.status_code == 201, made.text
    ran = api.post(
        f"/prompts/{name}/run",
        json={
            "version_id": made.json()["active_version"]["id"],
            "variables": {"q": "why"},
            "provider": "local",
        },
    )
    assert ran.status_code == 200, ran.text
    assert {r.headers.get("authorization") for r in llm.received()} == {f"Bearer {KEY}"}
