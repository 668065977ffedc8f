"""docs/rollouts.md's worked example, run against the app as written: the plan its curl
sends starts a rollout whose answer is what the text says; the commands it shows answer."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from promptdeck.core import Registry
from tests.domain.test_rollout_docs import worked_plan
from tests.rollouts.helpers import two_versions

DOC = (Path(__file__).parents[2] / "docs" / "rollouts.md").read_text()


def test_the_worked_example_runs_as_written(api: TestClient, registry: Registry) -> None:
    baseline, candidate = two_versions(registry, "support-reply")
    body = {**worked_plan(), "version_id": candidate}
    started = api.post("/prompts/support-reply/labels/production/rollout", json=body)
    assert started.status_code == 201, started.text
    state = started.json()
    assert (state["status"], state["percent"], state["step"]) == ("running", 5, 0)
    assert [j["verdict"] for j in state["judgements"]] == ["pending"]
    answer = api.get("/prompts/support-reply/active?label=production&key=user-1")
    assert answer.headers["etag"] in (f'"a{baseline}"', f'"a{candidate}"')
    assert answer.headers["promptdeck-rollout"].startswith(f"id={state['id']}, ")
    steer = next(b for b in re.findall(r"```sh\n(.*?)```", DOC, re.S) if "rollout/pause" in b)
    for verb in re.findall(r"rollout/(pause|resume|advance|abort)", steer):
        done = api.post(f"/prompts/support-reply/labels/production/rollout/{verb}")
        assert done.status_code == 200, (verb, done.text)
    assert api.get("/prompts/support-reply/labels/production/rollout").json()["status"] in (
        "aborted",
        "completed",
    )
