"""Never stale across processes: a fetch that starts after a rollback's 200 was received,
on another server process over the same database, gets the version rolled back to."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.load import figure, scale
from tests.support.server import ServerProcess


def test_a_fetch_on_another_process_right_after_each_rollback_is_never_stale(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    writer, reader = start_server(), start_server()
    rollbacks = scale("never_stale_rollbacks", 500)
    with (
        httpx.Client(base_url=writer.url, timeout=30) as w,
        httpx.Client(base_url=reader.url, timeout=30) as r,
    ):
        ids = [w.post("/prompts", json={"name": name}).json()["active_version"]["id"]]
        ids.append(w.post(f"/prompts/{name}/versions", json={"content": "two"}).json()["id"])
        assert r.get(f"/prompts/{name}/active").status_code == 200  # the reader's cache is warm
        stale = []
        for i in range(rollbacks):
            target = ids[i % 2]
            assert w.post(f"/prompts/{name}/versions/{target}/rollback").status_code == 200
            served = r.get(f"/prompts/{name}/active").json()["version_id"]
            if served != target:
                stale.append((i, target, served))
    figure(
        "never stale",
        f"{rollbacks} rollbacks on one process, each followed at once by a fetch on another: "
        f"{len(stale)} stale",
    )
    assert stale == []
