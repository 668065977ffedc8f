"""Any value the API accepts comes back equal from a read, an export, and an import into
a fresh server (whose export is then byte for byte the same)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from promptdeck import limits
from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.server import create_app
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine
from tests.support.databases import fresh_database_url
from tests.support.load import figure, scale

EXAMPLES = scale("round_trip_examples", 150)
REFUSED_IN_NAMES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"}

# Text the API accepts: any Unicode scalar value but NUL.
text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
name_text = st.text(
    st.characters(blacklist_categories=sorted(REFUSED_IN_NAMES)), min_size=1, max_size=20
).filter(lambda s: s == s.strip() and s == unicodedata.normalize("NFC", s))
numbers = st.one_of(
    st.integers(-limits.JSON_INT_MAX, limits.JSON_INT_MAX),
    st.floats(
        min_value=-limits.JSON_FLOAT_ABS_LIMIT,
        max_value=limits.JSON_FLOAT_ABS_LIMIT,
        exclude_min=True,
        exclude_max=True,
        allow_nan=False,
    ).filter(lambda x: not (x == 0 and str(x).startswith("-"))),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=10,
)
prompts = st.fixed_dictionaries(
    {
        "description": text,
        "content": text,
        "tags": st.lists(name_text, max_size=3),
        "model_config": st.dictionaries(text, json_values, max_size=4),
        "version_name": name_text,
        "version_description": text,
    }
)


@pytest.fixture
def second_api(tmp_path: Path) -> Iterator[TestClient]:
    (tmp_path / "b").mkdir()
    with fresh_database_url(tmp_path / "b") as url:
        engine = create_engine(url)
        migrate.upgrade(engine)
        settings_b = Settings(database_url=url)
        with TestClient(
            create_app(settings_b, Registry(engine)), raise_server_exceptions=False
        ) as client:
            yield client
        engine.dispose()


def test_every_accepted_value_reads_exports_and_imports_back_unchanged(
    api: TestClient, second_api: TestClient
) -> None:
    counter = iter(range(10**6))
    checked = {"prompts": 0}

    @settings(
        max_examples=EXAMPLES,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(prompts)
    def run(body: dict[str, Any]) -> None:
        name = f"rt-{next(counter)}"
        created = api.post("/prompts", json={"name": name, **body})
        assert created.status_code == 201, created.text
        read = api.get(f"/prompts/{name}").json()
        active = api.get(f"/prompts/{name}/active").json()
        for key in ("description", "content", "tags", "model_config"):
            assert read[key] == body[key], key
        assert active["content"] == body["content"]
        assert active["model_config"] == body["model_config"]
        assert active["version_name"] == body["version_name"]
        exported = api.get(f"/prompts/{name}/export")
        assert exported.status_code == 200
        record = exported.json()
        assert record["versions"][0]["model_config"] == body["model_config"]
        imported = second_api.post(
            "/prompts/import",
            content=exported.content,
            headers={"Content-Type": "application/json"},
        )
        assert imported.status_code == 201, imported.text
        again = second_api.get(f"/prompts/{name}/export")
        assert json.loads(again.content) == record
        assert again.content == exported.content
        checked["prompts"] += 1

    run()
    pages = [api.get("/prompts", params={"limit": 200}), api.get("/export")]
    figure(
        "round trip",
        f"{checked['prompts']} generated prompts read, exported and imported unchanged; "
        f"list and export after: {[p.status_code for p in pages]}",
    )
    assert all(p.status_code == 200 for p in pages)
