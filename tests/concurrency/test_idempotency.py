"""Idempotency-Key under concurrency: the same creating request sent by several clients at
once (a client and its own retries racing) through two processes creates exactly once."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.load import Tally, check_history, client, figure, run_concurrently, scale
from tests.support.server import ServerProcess

CLIENTS = 8


def test_one_idempotency_key_sent_concurrently_creates_exactly_once(
    start_server: Callable[..., ServerProcess],
) -> None:
    rounds = scale("idempotency_rounds", 20)
    urls = [start_server().url, start_server().url]
    versions = Tally()
    prompts = Tally()
    version_ids: list[set[int]] = []
    prompt_ids: list[set[int]] = []
    replayed = 0

    for r in range(rounds):

        def create_prompt(i: int, r: int = r) -> tuple[int, bool]:
            with client(urls[i % 2]) as http:
                resp = prompts.timed(
                    http.post,
                    "/prompts",
                    json={"name": f"idem-{r}", "content": "x"},
                    headers={"Idempotency-Key": f"prompt-{r}"},
                )
                assert resp.status_code == 201, resp.text
                return resp.json()["id"], resp.headers.get("idempotent-replayed") == "true"

        got = run_concurrently(CLIENTS, create_prompt)
        prompt_ids.append({g[0] for g in got})
        replayed += sum(g[1] for g in got)

        def create_version(i: int, r: int = r) -> tuple[int, bool]:
            with client(urls[i % 2]) as http:
                resp = versions.timed(
                    http.post,
                    f"/prompts/idem-{r}/versions",
                    json={"content": "y", "description": "retry me"},
                    headers={"Idempotency-Key": f"version-{r}"},
                )
                assert resp.status_code == 201, resp.text
                return resp.json()["id"], resp.headers.get("idempotent-replayed") == "true"

        got = run_concurrently(CLIENTS, create_version)
        version_ids.append({g[0] for g in got})
        replayed += sum(g[1] for g in got)

    with client(urls[0]) as http:
        counts = [check_history(http, f"idem-{r}")["count"] for r in range(rounds)]
        reused = http.post(
            "/prompts/idem-0/versions",
            json={"content": "different"},
            headers={"Idempotency-Key": "version-0"},
        )
    figure(
        "idempotency race",
        f"{rounds} rounds x {CLIENTS} concurrent POSTs with one key over 2 processes, for "
        f"prompts and for versions: prompts {prompts.summary()}, versions {versions.summary()}; "
        f"distinct results per round: prompts {max(map(len, prompt_ids))}, versions "
        f"{max(map(len, version_ids))}; replayed {replayed}; versions per prompt "
        f"{sorted(set(counts))}; same key, other body: {reused.status_code}",
    )
    assert all(len(ids) == 1 for ids in prompt_ids + version_ids)
    assert replayed == 2 * rounds * (CLIENTS - 1)
    assert counts == [2] * rounds
    assert prompts.server_errors == versions.server_errors == 0
    assert reused.status_code == 422
