"""GET /prompts/{prompt_id}/outcomes (issue 16): the kept raw outcomes read back, newest
first, filtered by version and time, paginated like every list, never past the retention,
behind the same gate as impact; with raw outcomes off the answer says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.outcomes import RawSettings
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion, ReportOutcomes
from promptdeck.domain.impact import Outcome
from promptdeck.server import create_app
from promptdeck.store import outcomes as store
from tests.api.helpers import assert_problem

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")  # as the API writes a whole second


def keeping(registry: Registry, clock: Clock, days: int = 7) -> Registry:
    return Registry(registry.engine, clock=clock, raw_outcomes=RawSettings(keep=True, days=days))


def versions(registry: Registry, name: str) -> tuple[int, int]:
    first = registry.create_prompt(
        CreatePrompt(name, content="one"), SYSTEM
    ).prompt.active_version_id
    assert first is not None
    return first, registry.create_version(
        CreateVersion(name, content="two", activate=True), SYSTEM
    ).version.id


def every_page(http: TestClient, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Follows next_cursor to the end; every page but the last is full."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = http.get(path, params={**params, "limit": limit, "cursor": cursor})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= limit
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found
        assert len(page["items"]) == limit


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_raw_outcomes_come_back_newest_first_filtered_by_version_and_time(
    settings: Settings, registry: Registry, clock: Clock
) -> None:
    kept = keeping(registry, clock)
    v1, v2 = versions(kept, "raw")
    [other] = versions(kept, "other")[1:]
    full = Outcome(
        "raw",
        v2,
        success=False,
        score=0.25,
        latency_ms=420.5,
        input_tokens=310,
        output_tokens=90,
        cost=0.0021,
        feedback=-1,
        tags={"region": "eu", "plan": "pro"},
        at=T0 - timedelta(minutes=30),
    )
    kept.report_outcomes(
        ReportOutcomes(
            [
                Outcome("raw", v1, success=True, at=T0 - timedelta(hours=1)),
                full,
                Outcome("raw", v1, success=True, tags={"region": "us"}, at=T0 - timedelta(hours=3)),
                Outcome("raw", v2, score=0.5, at=T0 - timedelta(hours=2)),
                Outcome("other", other, success=True, at=T0 - timedelta(hours=1)),
            ]
        ),
        SYSTEM,
    )
    with TestClient(create_app(settings, kept)) as http:
        page = http.get("/prompts/raw/outcomes").json()
        assert (page["kept"], page["days"], page["next_cursor"]) == (True, 7, None)
        hours = [(o["version_id"], o["at"]) for o in page["items"]]
        assert hours == [
            (v2, iso(T0 - timedelta(minutes=30))),
            (v1, iso(T0 - timedelta(hours=1))),
            (v2, iso(T0 - timedelta(hours=2))),
            (v1, iso(T0 - timedelta(hours=3))),
        ]
        newest = page["items"][0]
        assert {k: v for k, v in newest.items() if k not in ("id", "at")} == {
            "version_id": v2,
            "success": False,
            "score": 0.25,
            "latency_ms": 420.5,
            "input_tokens": 310,
            "output_tokens": 90,
            "cost": 0.0021,
            "feedback": -1,
            "tags": {"region": "eu", "plan": "pro"},
        }
        assert page["items"][2]["success"] is None and page["items"][2]["tags"] == {}
        prompt_id = kept.get_prompt("raw", SYSTEM).id
        assert http.get(f"/prompts/{prompt_id}/outcomes").json()["items"] == page["items"]

        def ats(**params: Any) -> list[str]:
            answer = http.get("/prompts/raw/outcomes", params=params)
            assert answer.status_code == 200, answer.text
            return [o["at"] for o in answer.json()["items"]]

        by_v1 = ats(version_id=v1)
        assert by_v1 == [iso(T0 - timedelta(hours=1)), iso(T0 - timedelta(hours=3))]
        # since is inclusive, until exclusive (as GET /events); offsets are honoured.
        assert ats(since=iso(T0 - timedelta(hours=2))) == [o["at"] for o in page["items"][:3]]
        assert ats(until=iso(T0 - timedelta(hours=1))) == [o["at"] for o in page["items"][2:]]
        assert ats(since="2026-11-20T12:00:00+01:00", until="2026-11-20T11:30:00Z") == [
            iso(T0 - timedelta(hours=1))
        ]
        assert ats(version_id=v2, since=iso(T0 - timedelta(hours=1))) == [page["items"][0]["at"]]
        assert ats(since=iso(T0)) == []
        # A version of another prompt, or none, is a 404 (rule 5), never another's outcomes.
        assert_problem(
            http.get("/prompts/raw/outcomes", params={"version_id": other}),
            404,
            "version-not-found",
        )
        assert_problem(http.get("/prompts/nope/outcomes"), 404, "prompt-not-found")


def test_pages_walk_every_outcome_exactly_once_in_order_even_when_times_tie(
    settings: Settings, registry: Registry, clock: Clock
) -> None:
    kept = keeping(registry, clock)
    v1, v2 = versions(kept, "raw")
    # 47 outcomes, five to a second: many share a time, so the order falls back to the id.
    batch = [
        Outcome("raw", v1 if i % 3 else v2, success=i % 2 == 0, at=T0 - timedelta(seconds=i // 5))
        for i in range(47)
    ]
    kept.report_outcomes(ReportOutcomes(batch), SYSTEM)
    with TestClient(create_app(settings, kept)) as http:
        whole = http.get("/prompts/raw/outcomes", params={"limit": 200}).json()["items"]
        assert len(whole) == 47 and whole[0]["at"] == iso(T0)
        order = [(o["at"], o["id"]) for o in whole]
        assert order == sorted(order, reverse=True)
        for limit in (1, 4, 46, 47):
            walked = every_page(http, "/prompts/raw/outcomes", limit)
            assert [o["id"] for o in walked] == [o["id"] for o in whole]
        since = iso(T0 - timedelta(seconds=5))
        filtered = every_page(http, "/prompts/raw/outcomes", 3, version_id=v1, since=since)
        expected = [o for o in whole if o["version_id"] == v1 and o["at"] >= since]
        assert filtered == expected and len(expected) == 20


def test_bad_page_and_filter_values_are_422s_as_on_every_list(
    settings: Settings, registry: Registry, clock: Clock
) -> None:
    kept = keeping(registry, clock)
    versions(kept, "raw")
    with TestClient(create_app(settings, kept)) as http:
        events = http.get("/prompts/raw/events", params={"limit": 1}).json()["next_cursor"]
        for params, field in [
            ({"limit": 0}, "limit"),
            ({"limit": 201}, "limit"),
            ({"cursor": "not-a-cursor"}, "cursor"),
            ({"cursor": events}, "cursor"),  # another list's cursor
            ({"cursor": "x" * 201}, "cursor"),
            ({"since": "yesterday"}, "since"),
            ({"since": "1700000000"}, "since"),
            ({"since": "0001-01-01T00:00:00+01:00"}, "since"),  # before year 1 in UTC
            ({"until": "9999-12-31T23:59:59-01:00"}, "until"),  # past year 9999 in UTC
            ({"since": iso(T0), "until": iso(T0 - timedelta(hours=1))}, "until"),
            ({"version_id": "abc"}, "version_id"),
            ({"version_id": 0}, "version_id"),
            ({"version_id": 2**31}, "version_id"),
        ]:
            answer = http.get("/prompts/raw/outcomes", params=params)
            body = assert_problem(answer, 422)
            where = body.get("field") or str(body.get("errors"))
            assert field in where, (params, body)
        assert http.get("/prompts/raw/outcomes", params={"limit": 200}).status_code == 200


def test_outcomes_past_the_retention_are_never_listed_pruned_or_not_yet(
    settings: Settings, registry: Registry, clock: Clock
) -> None:
    kept = keeping(registry, clock, days=2)
    v1, _ = versions(kept, "raw")
    old, day, now = T0 - timedelta(days=3), T0 - timedelta(days=1), T0
    kept.report_outcomes(
        ReportOutcomes([Outcome("raw", v1, success=True, at=at) for at in (old, day, now)]), SYSTEM
    )
    with registry.engine.connect() as conn:
        assert store.raw_count(conn, v1) == 2  # the ingest pruned the 3-day-old one
    with TestClient(create_app(settings, kept)) as http:
        listed = http.get("/prompts/raw/outcomes").json()
        assert [o["at"] for o in listed["items"]] == [iso(now), iso(day)]
        assert (listed["kept"], listed["days"]) == (True, 2)
        clock.now += timedelta(days=1, hours=12)  # `day` is now 2.5 days old, not pruned yet
        with registry.engine.connect() as conn:
            assert store.raw_count(conn, v1) == 2
        later = http.get("/prompts/raw/outcomes", params={"since": iso(old)}).json()
        assert [o["at"] for o in later["items"]] == [iso(now)]


def test_with_raw_outcomes_off_the_list_is_empty_and_says_they_are_not_kept(
    settings: Settings, registry: Registry, clock: Clock
) -> None:
    v1, _ = versions(registry, "raw")
    registry.report_outcomes(ReportOutcomes([Outcome("raw", v1, success=True)] * 3), SYSTEM)
    assert registry.impact("raw", SYSTEM).versions[0].summary.count == 3
    with TestClient(create_app(settings, registry)) as http:
        answer = http.get("/prompts/raw/outcomes")
        assert answer.status_code == 200
        assert answer.json() == {"items": [], "next_cursor": None, "kept": False, "days": 7}


@pytest.fixture
def gated(settings: Settings, registry: Registry, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, keeping(registry, clock))) as client:
        yield client


def test_raw_outcomes_need_the_read_role_and_a_prefix_limited_key_sees_only_its_prompts(
    gated: TestClient, registry: Registry, clock: Clock
) -> None:
    access = Access(registry.engine)
    read = {"Authorization": f"Bearer {access.create_key('k-read', 'read').secret}"}
    team = {
        "Authorization": f"Bearer {access.create_key('k-team', 'read', prefixes=['team-']).secret}"
    }
    kept = keeping(registry, clock)
    mine, _ = versions(kept, "team-a")
    theirs, _ = versions(kept, "other")
    kept.report_outcomes(
        ReportOutcomes([Outcome("team-a", mine, success=True), Outcome("other", theirs)]), SYSTEM
    )
    assert gated.get("/prompts/other/outcomes").status_code == 401
    assert len(gated.get("/prompts/other/outcomes", headers=read).json()["items"]) == 1
    assert len(gated.get("/prompts/team-a/outcomes", headers=team).json()["items"]) == 1
    other_id = registry.get_prompt("other", SYSTEM).id
    for ref in ("other", str(other_id)):
        refused = gated.get(f"/prompts/{ref}/outcomes", headers=team)
        assert_problem(refused, 404, "prompt-not-found")


def test_generated_outcomes_come_back_as_reported(
    settings: Settings, registry: Registry, clock: Clock
) -> None:
    """Every measure and tag as generated (any text the API takes, nulls, extremes) is read
    back unchanged, on both databases (PostgreSQL writes a batch as one array statement)."""
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st

    from promptdeck import limits
    from promptdeck.domain import values

    kept = keeping(registry, clock)
    _, v2 = versions(kept, "gen")
    text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))
    outcome = st.fixed_dictionaries(
        {"prompt_id": st.just("gen"), "version_id": st.just(v2)},
        optional={
            "success": st.booleans() | st.none(),
            "score": st.floats(0, 1) | st.none(),
            "latency_ms": st.floats(0, limits.OUTCOME_LATENCY_MS_MAX) | st.none(),
            "input_tokens": st.integers(0, limits.OUTCOME_TOKENS_MAX) | st.none(),
            "output_tokens": st.integers(0, limits.OUTCOME_TOKENS_MAX),
            "cost": st.floats(0, limits.OUTCOME_COST_MAX),
            "feedback": st.sampled_from([1, -1, None]),
            "tags": st.dictionaries(
                text.filter(values.is_text).map(lambda k: k[: limits.OUTCOME_TAG_KEY_MAX] or "k"),
                text.map(lambda v: v[: limits.OUTCOME_TAG_VALUE_MAX]),
                max_size=limits.OUTCOME_TAGS_MAX,
            ),
        },
    )
    fields = ("success", "score", "latency_ms", "input_tokens", "output_tokens", "cost")
    with TestClient(create_app(settings, kept)) as http:

        @hypothesis_settings(
            max_examples=40,
            database=None,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.lists(outcome, min_size=1, max_size=5))
        def run(batch: list[dict[str, Any]]) -> None:
            clock.now += timedelta(minutes=1)  # this batch's outcomes are the newest
            sent = http.post("/outcomes", json={"outcomes": batch})
            assert sent.status_code == 200, sent.text
            page = http.get("/prompts/gen/outcomes", params={"limit": len(batch)}).json()
            back = sorted(page["items"], key=lambda o: o["id"])
            assert len(back) == len(batch)
            for given_, got in zip(batch, back, strict=True):
                for f in fields:
                    assert got[f] == given_.get(f), (f, given_, got)
                assert got["feedback"] == given_.get("feedback")
                assert got["tags"] == given_.get("tags", {})

        run()
