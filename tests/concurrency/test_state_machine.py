"""Test 8 of the reliability plan: a stateful property test of DESIGN's rules.

Hypothesis drives random sequences of operations through the real app (in-process ASGI
client, real database) and a tiny pure-Python model of the rules; after every step the
service must agree with the model: exactly one active version, numbers never reused, history
never shrinks, names unique, deleted prompts invisible, restores whole, versions immutable.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from promptdeck.domain.rules import content_hash
from tests.support.load import figure, scale

NAMES = ["a", "b", "c"]
VERSION_NAMES = ["v1", "v2", "release", None, None, None]
TEXTS = st.sampled_from(["", "hello {{name}}", "hi", "ünïcode ✓", "x" * 300])


@dataclass
class VersionModel:
    id: int
    number: int
    name: str
    content: str
    hash: str


@dataclass
class PromptModel:
    name: str
    working_copy: str
    versions: list[VersionModel] = field(default_factory=list)
    active: int = 0
    next_number: int = 1
    deleted: bool = False

    def names(self) -> set[str]:
        return {v.name for v in self.versions}


_examples = itertools.count()
_stats = {"examples": 0, "steps": 0}


def make_machine(api: TestClient) -> type[RuleBasedStateMachine]:
    class Registry(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.prefix = f"e{next(_examples)}-"
            self.prompts: dict[str, PromptModel] = {}
            _stats["examples"] += 1

        def path(self, short: str) -> str:
            return f"/prompts/{self.prefix}{short}"

        def step(self) -> None:
            _stats["steps"] += 1

        # --- rules ---------------------------------------------------------------------

        @rule(short=st.sampled_from(NAMES), text=TEXTS, version_name=st.sampled_from(VERSION_NAMES))
        def create_prompt(self, short: str, text: str, version_name: str | None) -> None:
            self.step()
            body: dict[str, Any] = {"name": self.prefix + short, "content": text}
            if version_name:
                body["version_name"] = version_name
            r = api.post("/prompts", json=body)
            if short in self.prompts:
                assert r.status_code == 409, r.text
                return
            assert r.status_code == 201, r.text
            v = r.json()["active_version"]
            assert v["number"] == 1
            model = PromptModel(short, text)
            model.versions.append(
                VersionModel(v["id"], 1, v["version_name"], text, v["content_hash"])
            )
            model.active, model.next_number = v["id"], 2
            self.prompts[short] = model

        @precondition(lambda self: self.prompts)
        @rule(
            data=st.data(),
            text=st.none() | TEXTS,
            version_name=st.sampled_from(VERSION_NAMES),
            activate=st.booleans(),
        )
        def create_version(
            self, data: st.DataObject, text: str | None, version_name: str | None, activate: bool
        ) -> None:
            self.step()
            short = data.draw(st.sampled_from(sorted(self.prompts)))
            model = self.prompts[short]
            body: dict[str, Any] = {"activate": activate}
            if text is not None:
                body["content"] = text
            if version_name is not None:
                body["version_name"] = version_name
            r = api.post(self.path(short) + "/versions", json=body)
            if model.deleted:
                assert r.status_code == 404, r.text
                return
            if version_name is not None and version_name in model.names():
                assert r.status_code == 409, r.text
                return
            assert r.status_code == 201, r.text
            v = r.json()
            content = model.working_copy if text is None else text
            assert v["content"] == content and v["content_hash"] == content_hash(content, {})
            assert v["number"] == model.next_number  # never reused, never skipped
            assert v["active"] is activate
            model.versions.append(
                VersionModel(v["id"], v["number"], v["version_name"], content, v["content_hash"])
            )
            model.next_number += 1
            if activate:
                model.active = v["id"]

        @precondition(lambda self: self.prompts)
        @rule(data=st.data(), if_match=st.sampled_from(["none", "current", "stale"]))
        def rollback(self, data: st.DataObject, if_match: str) -> None:
            self.step()
            short = data.draw(st.sampled_from(sorted(self.prompts)))
            model = self.prompts[short]
            everything = [v.id for p in self.prompts.values() for v in p.versions]
            target = data.draw(st.sampled_from(everything))  # may belong to another prompt
            headers = {}
            if if_match == "current":
                current = api.get(self.path(short))
                if current.status_code == 200:
                    headers["If-Match"] = current.headers["etag"]
            elif if_match == "stale":
                headers["If-Match"] = '"0-0"'
            r = api.post(f"{self.path(short)}/versions/{target}/rollback", headers=headers)
            if model.deleted:
                assert r.status_code == 404, r.text
            elif if_match == "stale":
                assert r.status_code == 412, r.text
            elif target not in {v.id for v in model.versions}:
                assert r.status_code == 404, r.text  # rule 5: never act on it
            else:
                assert r.status_code == 200, r.text
                assert r.json()["changed"] is (target != model.active)
                model.active = target

        @precondition(lambda self: self.prompts)
        @rule(data=st.data(), text=TEXTS, stale=st.booleans())
        def patch(self, data: st.DataObject, text: str, stale: bool) -> None:
            self.step()
            short = data.draw(st.sampled_from(sorted(self.prompts)))
            model = self.prompts[short]
            headers = {"If-Match": '"0-0"'} if stale else {}
            r = api.patch(self.path(short), json={"content": text}, headers=headers)
            if model.deleted:
                assert r.status_code == 404, r.text
            elif stale:
                assert r.status_code == 412, r.text
            else:
                assert r.status_code == 200, r.text
                model.working_copy = text

        @precondition(lambda self: self.prompts)
        @rule(data=st.data())
        def delete(self, data: st.DataObject) -> None:
            self.step()
            short = data.draw(st.sampled_from(sorted(self.prompts)))
            r = api.delete(self.path(short))
            assert r.status_code == (404 if self.prompts[short].deleted else 204), r.text
            self.prompts[short].deleted = True

        @precondition(lambda self: self.prompts)
        @rule(data=st.data())
        def restore(self, data: st.DataObject) -> None:
            self.step()
            short = data.draw(st.sampled_from(sorted(self.prompts)))
            r = api.post(self.path(short) + "/restore")
            assert r.status_code == (200 if self.prompts[short].deleted else 409), r.text
            self.prompts[short].deleted = False

        @precondition(lambda self: self.prompts)
        @rule(data=st.data())
        def purge(self, data: st.DataObject) -> None:
            self.step()
            short = data.draw(st.sampled_from(sorted(self.prompts)))
            r = api.post(self.path(short) + "/purge")
            if self.prompts[short].deleted:
                assert r.status_code == 204, r.text
                del self.prompts[short]  # the name is free again; its versions are gone
            else:
                assert r.status_code == 409, r.text

        @precondition(lambda self: any(p.versions for p in self.prompts.values()))
        @rule(data=st.data())
        def read_version(self, data: st.DataObject) -> None:
            """Versions are immutable: content and hash are what they were at creation."""
            self.step()
            short = data.draw(st.sampled_from(sorted(self.prompts)))
            model = self.prompts[short]
            v = data.draw(st.sampled_from(model.versions))
            r = api.get(f"{self.path(short)}/versions/{v.id}")
            if model.deleted:
                assert r.status_code == 404
                return
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["content"], body["content_hash"], body["number"]) == (
                v.content,
                v.hash,
                v.number,
            )

        # --- invariants ----------------------------------------------------------------

        @invariant()
        def service_agrees_with_the_model(self) -> None:
            listed = api.get("/prompts", params={"q": self.prefix, "limit": 200}).json()
            assert {p["name"] for p in listed["items"]} == {
                self.prefix + s for s, m in self.prompts.items() if not m.deleted
            }
            for short, model in self.prompts.items():
                versions = api.get(self.path(short) + "/versions", params={"limit": 200})
                active = api.get(self.path(short) + "/active")
                if model.deleted:
                    assert versions.status_code == 404 and active.status_code == 404
                    continue
                items = versions.json()["items"]
                expected = [(v.id, v.number, v.name, v.hash) for v in reversed(model.versions)]
                got = [(v["id"], v["number"], v["version_name"], v["content_hash"]) for v in items]
                assert got == expected  # newest first, nothing lost, nothing changed
                assert [v["id"] for v in items if v["active"]] == [model.active]
                assert len({v["version_name"] for v in items}) == len(items)
                body = active.json()
                assert body["version_id"] == model.active
                mv = next(v for v in model.versions if v.id == model.active)
                assert body["content"] == mv.content

    return Registry


@pytest.mark.timeout(900)  # 200 x 40 steps: about 2 minutes on SQLite, 3 on PostgreSQL
def test_random_operation_sequences_keep_every_rule_of_the_design(api: TestClient) -> None:
    examples = scale("stateful_examples", 200)
    steps = scale("stateful_steps", 40)
    machine = make_machine(api)
    started = time.monotonic()
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            derandomize=False,
            print_blob=True,
        ),
    )
    figure(
        "stateful model",
        f"{_stats['examples']} examples x <= {steps} steps = {_stats['steps']} operations, "
        f"0 invariant failures; {time.monotonic() - started:.1f} s",
    )
