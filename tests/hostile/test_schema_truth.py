"""The OpenAPI document tells the whole truth: a request its schema allows is not refused
(schemathesis's positive check, every operation, as an admin on a server with data), and a
405's Allow lists what the document lists for that path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from promptdeck.core import setup
from tests.hostile.schema_exceptions import EXCEPTIONS
from tests.support.load import figure, scale
from tests.support.server import ServerProcess

# The document and the checks of a request's shape are the same on both databases.
pytestmark = pytest.mark.sqlite_only

ST = str(Path(sys.executable).with_name("st"))
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = scale("schema_truth_examples", 20)  # per operation

# Statuses a schema-valid request may rightly get besides schemathesis's defaults (2xx, 3xx,
# 401, 403, 404, 409, 429): 412, an If-Match that is not the current ETag (a precondition on
# the state, as 409 is, not on the request's shape). Text is generated as UTF-8 without NUL:
# "What a value may be" (docs/api.md) refuses NUL and lone surrogates in any text, which
# would need a pattern on every string. The rest: schema_exceptions.py, each with its reason.
CONFIG = """
max-stream-events = 1

[generation]
allow-x00 = false
codec = "utf-8"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]

[parameters]
"path.prompt_id" = "seeded"
"path.version_id" = {version_id}

[[operations]]
include-name = ["DELETE /prompts/{{prompt_id}}", "POST /prompts/{{prompt_id}}/purge"]
parameters = {{ "path.prompt_id" = "doomed" }}
"""


def _seed(client: httpx.Client) -> int:
    """Prompts the generated requests reach (else nearly every one is a 404): `seeded` with
    two versions and a label, `doomed` for the deletes. Returns seeded's second version."""
    for name in ("seeded", "doomed"):
        assert client.post("/prompts", json={"name": name, "content": "Hi {{x}}"}).is_success
    second = client.post("/prompts/seeded/versions", json={"content": "Hello {{x}}"}).json()
    put = client.put("/prompts/seeded/labels/staging", json={"version_id": second["id"]})
    assert put.is_success
    return int(second["id"])


@pytest.mark.timeout(1200)  # st runs under its own 900 s bound; about 2 minutes alone
def test_no_operation_refuses_a_request_its_schema_allows(
    database_url: str, start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    with setup.open_access(database_url) as access:
        key = access.create_key(f"st-{uuid.uuid4().hex}", "admin").secret
    server = start_server(env={"PROMPTDECK_WEBHOOKS_DELIVER": "false"})
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url, timeout=60, headers=auth) as client:
        version_id = _seed(client)
    report = tmp_path / "schemathesis.json"
    (tmp_path / "schemathesis.toml").write_text(CONFIG.format(version_id=version_id))
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.hostile.schema_exceptions"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    run = subprocess.run(
        [
            ST,
            "run",
            f"{server.url}/openapi.json",
            "--phases",
            "examples,fuzzing",
            "--checks",
            "positive_data_acceptance,not_a_server_error",
            "--max-examples",
            str(EXAMPLES),
            "--generation-deterministic",
            "--workers",
            "1",
            "--header",
            f"Authorization: Bearer {key}",
            "--continue-on-failure",
            "--max-failures",
            "1000",
            "--no-shrink",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=900,
        check=False,
    )
    result = json.loads(report.read_text())
    refused = sorted({op for f in result["failures"] for op in f["operations"]})
    figure(
        "schema truth",
        f"{result['operations']['tested']} operations, {result['test_cases']['generated']} "
        f"requests generated, {len(refused)} operations refused a schema-valid request, "
        f"{len(EXCEPTIONS)} exceptions",
    )
    assert result["operations"]["errored"] == 0, run.stdout[-3000:]
    assert refused == [], run.stdout[-8000:]


def test_a_405_allows_exactly_the_methods_the_document_lists_for_its_path(
    api: httpx.Client,
) -> None:
    document = api.get("/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch"}
    templates = {
        re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(t))): {m for m in item if m in methods}
        for t, item in document["paths"].items()
    }
    checked = 0
    for template in document["paths"]:
        # A concrete path for the template: ids 1, names and labels "x".
        path = re.sub(r"\{\w+\}", "x", re.sub(r"\{\w+_id\}", "1", template))
        # What the document lists for this path: every template it matches (/prompts/import
        # is also GET /prompts/{prompt_id} of a prompt named "import").
        listed = {m for pattern, ms in templates.items() if pattern.fullmatch(path) for m in ms}
        for method in sorted(methods - listed):
            response = api.request(method.upper(), path)
            assert response.status_code == 405, (method, path, response.status_code)
            allowed = {m.strip().lower() for m in response.headers["Allow"].split(",")}
            # HEAD is answered wherever GET is (server/head.py).
            assert allowed - {"head"} == listed, (template, method, allowed, listed)
            checked += 1
    assert checked > 100
