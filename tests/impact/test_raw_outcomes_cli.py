"""The kept raw outcomes through the Python client and `promptdeck outcomes`, against a real
server that keeps them (PROMPTDECK_OUTCOMES_RAW)."""

from __future__ import annotations

import json
from collections.abc import Callable

from promptdeck.client import Client
from tests.cli.helpers import ok, run
from tests.support.server import ServerProcess


def test_the_client_and_the_cli_read_back_raw_outcomes_newest_first_with_their_tags(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    server = start_server(
        env={"PROMPTDECK_OUTCOMES_RAW": "true", "PROMPTDECK_OUTCOMES_RAW_DAYS": "3"}
    )
    with Client(server.url) as c:
        v1 = c.create_prompt(name, "one").active_version
        assert v1 is not None
        v2 = c.create_version(name, "two", activate=True)
        for i in range(5):
            c.report(name, v1.id, success=True, latency_ms=100 + i, tags={"n": str(i)})
        c.report(name, v2.id, success=False, score=0.5, feedback=-1, tags={"region": "eu"})
        c.flush_outcomes()
        page = c.list_outcomes(name, limit=4)
        assert (page.kept, page.days, len(page.items)) == (True, 3, 4)
        assert page.next_cursor is not None
        rest = c.list_outcomes(name, limit=4, cursor=page.next_cursor)
        walked = [o.id for o in page.items + rest.items]
        assert rest.next_cursor is None and len(set(walked)) == 6
        assert [o.id for o in c.iter_outcomes(name)] == walked
        assert [o.tags for o in c.iter_outcomes(name, version_id=v2.id)] == [{"region": "eu"}]
        assert c.list_outcomes(name, since="2999-01-01T00:00:00Z").items == []

    out = ok(server.url, "outcomes", name)
    assert "kept for 3 days" in out and "region=eu" in out and "n=4" in out
    assert out.index("region=eu") < out.index("n=0")  # the last reported first (time, then id)
    listed = json.loads(ok(server.url, "outcomes", name, "--version-id", str(v1.id), "--json"))
    assert (listed["kept"], listed["days"]) == (True, 3)
    assert sorted(o["tags"]["n"] for o in listed["items"]) == ["0", "1", "2", "3", "4"]
    two = json.loads(ok(server.url, "outcomes", name, "-n", "2", "--json"))
    assert [o["id"] for o in two["items"]] == walked[:2]
    assert run(server.url, "outcomes", "no-such-prompt").exit_code == 1
