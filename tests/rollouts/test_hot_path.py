"""GET …/active?label=&key= during a rollout, in-process over the real database: the
assigned version's body and ETag, 304, the Promptdeck-Rollout header clients assign from,
a random arm without a key, the key's refusals, and the baseline for all once it ends."""

from __future__ import annotations

from urllib.parse import quote

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import ControlRollout, StartRollout
from promptdeck.domain.rollouts import assign
from promptdeck.domain.rollouts.split import HEADER, Split
from tests.api.helpers import assert_problem
from tests.rollouts.helpers import plan, two_versions

PATH = "/prompts/{name}/active?label=production"


def started(registry: Registry, name: str, steps: list[float]) -> tuple[int, int, str]:
    baseline, candidate = two_versions(registry, name)
    rollout = registry.start_rollout(
        StartRollout(name, "production", plan(candidate, steps=steps)), SYSTEM
    )
    return baseline, candidate, rollout.state.salt


def test_a_key_gets_the_version_its_bucket_names_with_that_versions_etag(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, candidate, salt = started(registry, name, [50, 100])
    path = PATH.format(name=name)
    seen = set()
    for n in range(200):
        key = f"user-{n}"
        response = api.get(f"{path}&key={key}")
        assert response.status_code == 200
        expected = candidate if assign.bucket(salt, key) < 5000 else baseline
        assert response.json()["version_id"] == expected
        assert response.headers["etag"] == f'"a{expected}"'
        seen.add(expected)
        again = api.get(f"{path}&key={key}", headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304 and again.headers[HEADER] == response.headers[HEADER]
    assert seen == {baseline, candidate}
    split = Split.parse(response.headers[HEADER])
    assert (split.baseline, split.candidate, split.basis_points, split.salt) == (
        baseline,
        candidate,
        5000,
        salt,
    )


def test_keys_are_hashed_exactly_as_given_unicode_and_the_empty_key_included(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, candidate, salt = started(registry, name, [50, 100])
    for key in ["", "é", "e\u0301", "\U0001d518ser", "مستخدم", "a b+c", "x" * 512]:
        response = api.get(PATH.format(name=name) + "&key=" + quote(key, safe=""))
        expected = candidate if assign.bucket(salt, key) < 5000 else baseline
        assert response.json()["version_id"] == expected, key


def test_a_key_that_is_not_unicode_or_too_long_is_refused_naming_the_key(
    api: TestClient, registry: Registry, name: str
) -> None:
    started(registry, name, [50, 100])
    path = PATH.format(name=name)
    for bad in ("%ED%A0%80", "%FF", "x" * 513, quote("é" * 257)):
        body = assert_problem(api.get(f"{path}&key={bad}"), 422, "validation-error")
        assert body["field"] == "key"


def test_without_a_key_each_request_draws_an_arm(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, candidate, _ = started(registry, name, [50, 100])
    served = {api.get(PATH.format(name=name)).json()["version_id"] for _ in range(60)}
    assert served == {baseline, candidate}


def test_once_the_rollout_ends_every_key_gets_the_baseline_and_no_header(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, _, _ = started(registry, name, [99.99, 100])
    path = PATH.format(name=name)
    assert HEADER in api.get(f"{path}&key=a").headers
    registry.control_rollout(ControlRollout(name, "production", "abort"), SYSTEM)
    for n in range(50):
        response = api.get(f"{path}&key=user-{n}")
        assert response.json()["version_id"] == baseline
        assert HEADER not in response.headers


def test_raising_the_share_never_moves_a_key_back_to_the_baseline(
    api: TestClient, registry: Registry, name: str
) -> None:
    _, candidate, _ = started(registry, name, [5, 25, 50, 100])
    path = PATH.format(name=name)
    keys = [f"k{n}" for n in range(300)]
    before = {k for k in keys if api.get(f"{path}&key={k}").json()["version_id"] == candidate}
    registry.control_rollout(ControlRollout(name, "production", "advance"), SYSTEM)
    after = {k for k in keys if api.get(f"{path}&key={k}").json()["version_id"] == candidate}
    assert before < after
    assert api.get(f"{path}&key=k0").headers[HEADER].count("basis-points=2500") == 1


def test_the_active_label_splits_too(api: TestClient, registry: Registry, name: str) -> None:
    baseline, candidate = two_versions(registry, name, label="active")
    salt = registry.start_rollout(
        StartRollout(name, "active", plan(candidate, steps=[50, 100])), SYSTEM
    ).state.salt
    for n in range(40):
        key = f"u{n}"
        expected = candidate if assign.bucket(salt, key) < 5000 else baseline
        assert api.get(f"/prompts/{name}/active?key={key}").json()["version_id"] == expected
