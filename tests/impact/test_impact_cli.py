"""`promptdeck impact NAME [--compare A B]` against a real server."""

from __future__ import annotations

import json

from promptdeck.client import Client
from tests.cli.helpers import ok, run
from tests.support.server import ServerProcess


def test_impact_prints_each_version_and_the_verdict_of_a_comparison(
    shared_server: ServerProcess, name: str
) -> None:
    with Client(shared_server.url) as c:
        v1 = c.create_prompt(name, "one").active_version
        assert v1 is not None
        v2 = c.create_version(name, "two", activate=True)
        for i in range(300):
            c.report(name, v1.id, success=i % 20 != 0, latency_ms=200)
            c.report(name, v2.id, success=i % 3 != 0, latency_ms=250)
        c.flush_outcomes()
    out = ok(shared_server.url, "impact", name, "--compare", str(v1.id), str(v2.id))
    assert "95.0%" in out and "66.7%" in out
    assert "success_rate" in out and "worse" in out and "chi2_contingency" in out
    as_json = json.loads(ok(shared_server.url, "impact", name, "--json"))
    assert {v["version_id"]: v["count"] for v in as_json["versions"]} == {v1.id: 300, v2.id: 300}
    missing = run(shared_server.url, "impact", "no-such-prompt")
    assert missing.exit_code == 1


def test_alerts_set_list_and_remove_a_labels_rule(shared_server: ServerProcess, name: str) -> None:
    with Client(shared_server.url) as c:
        c.create_prompt(name, "one")
    said = ok(shared_server.url, "alerts", "set", name, "active", "--min-success", "0.9")
    assert "below 90% within 15 min" in said and "once 20 outcomes" in said
    ok(
        shared_server.url,
        "alerts",
        "set",
        name,
        "active",
        "--min-success",
        "0.75",
        "--window",
        "30",
    )
    listed = json.loads(ok(shared_server.url, "alerts", "list", name, "--json"))
    assert [
        (r["label"], r["min_success"], r["window_minutes"], r["min_count"]) for r in listed
    ] == [("active", 0.75, 30, 20)]
    assert "75%" in ok(shared_server.url, "alerts", "list", name)
    assert (
        run(
            shared_server.url, "alerts", "set", name, "no-such-label", "--min-success", "0.9"
        ).exit_code
        == 1
    )
    assert (
        run(shared_server.url, "alerts", "set", name, "active", "--min-success", "2").exit_code == 2
    )
    ok(shared_server.url, "alerts", "rm", name, "active")
    assert run(shared_server.url, "alerts", "rm", name, "active").exit_code == 1
    assert json.loads(ok(shared_server.url, "alerts", "list", name, "--json")) == []
    assert "no alert rules" in ok(shared_server.url, "alerts", "list", name)
