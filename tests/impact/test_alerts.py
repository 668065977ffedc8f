"""Alert thresholds: "success below 0.9 over 15 minutes after a move" raises one
impact.alert event per move, checked at ingest, with an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from promptdeck.core import Registry
from promptdeck.core.webhooks import Destinations, Webhooks
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    MoveLabel,
    RemoveAlert,
    ReportOutcomes,
    Rollback,
    SetAlert,
)
from promptdeck.domain.impact import Outcome
from promptdeck.domain.outgoing import parse_allowance
from promptdeck.errors import InvalidInput, LabelNotFound


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def outcomes(version_id: int, successes: int, failures: int) -> list[Outcome]:
    return [Outcome("alerted", version_id, success=True)] * successes + [
        Outcome("alerted", version_id, success=False)
    ] * failures


def alerts_of(registry: Registry) -> list[dict[str, object]]:
    events = registry.list_events("alerted", SYSTEM, limit=200).items
    return [e.detail | {"version_id": e.version_id} for e in events if e.kind == "impact.alert"]


def test_a_breach_after_a_move_raises_one_alert_and_a_new_move_rearms_it(
    registry: Registry,
) -> None:
    clock = Clock()
    registry = Registry(registry.engine, clock=clock)
    good = registry.create_prompt(CreatePrompt("alerted"), SYSTEM).prompt.active_version_id
    assert good is not None
    registry.set_alert(
        SetAlert("alerted", "active", min_success=0.9, window_minutes=15, min_count=20), SYSTEM
    )
    clock.now += timedelta(minutes=1)
    bad = registry.create_version(
        CreateVersion("alerted", content="worse", activate=True), SYSTEM
    ).version.id
    clock.now += timedelta(minutes=1)
    assert (
        registry.report_outcomes(ReportOutcomes(outcomes(bad, 5, 5)), SYSTEM).alerts == 0
    )  # under min_count
    assert registry.report_outcomes(ReportOutcomes(outcomes(bad, 6, 4)), SYSTEM).alerts == 1
    assert (
        registry.report_outcomes(ReportOutcomes(outcomes(bad, 0, 20)), SYSTEM).alerts == 0
    )  # once per move
    [alert] = alerts_of(registry)
    assert alert["label"] == "active" and alert["version_id"] == bad
    assert alert["success_rate"] == 0.55 and alert["count"] == 20
    registry.rollback(Rollback("alerted", good), SYSTEM)
    assert (
        registry.report_outcomes(ReportOutcomes(outcomes(good, 30, 0)), SYSTEM).alerts == 0
    )  # healthy
    clock.now += timedelta(minutes=1)
    registry.rollback(Rollback("alerted", bad), SYSTEM)
    clock.now += timedelta(minutes=20)  # past the window: no longer judged
    assert registry.report_outcomes(ReportOutcomes(outcomes(bad, 0, 30)), SYSTEM).alerts == 0
    assert len(alerts_of(registry)) == 1


def test_alert_rules_are_listed_replaced_removed_and_checked(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("alerted"), SYSTEM)
    registry.set_alert(
        SetAlert("alerted", "production", min_success=0.9, window_minutes=15, min_count=20), SYSTEM
    )
    registry.set_alert(
        SetAlert("alerted", "production", min_success=0.8, window_minutes=30, min_count=5), SYSTEM
    )
    [rule] = registry.list_alerts("alerted", SYSTEM)
    assert (rule.label, rule.min_success, rule.window_minutes, rule.min_count) == (
        "production",
        0.8,
        30,
        5,
    )
    assert registry.remove_alert(RemoveAlert("alerted", "production"), SYSTEM)
    assert registry.list_alerts("alerted", SYSTEM) == []
    with pytest.raises(InvalidInput):
        registry.set_alert(
            SetAlert("alerted", "Bad Label", min_success=0.9, window_minutes=1, min_count=1), SYSTEM
        )


def test_an_alert_is_a_webhook_delivery_for_hooks_that_want_impact_alert(
    registry: Registry,
) -> None:
    clock = Clock()
    registry = Registry(registry.engine, clock=clock)
    hooks = Webhooks(registry.db, Destinations(parse_allowance("127.0.0.1")))
    hooks.create("http://127.0.0.1:9/", events=["impact.alert"])
    registry.create_prompt(CreatePrompt("alerted"), SYSTEM)
    registry.set_alert(
        SetAlert("alerted", "active", min_success=0.9, window_minutes=15, min_count=20), SYSTEM
    )
    clock.now += timedelta(minutes=1)
    bad = registry.create_version(
        CreateVersion("alerted", content="worse", activate=True), SYSTEM
    ).version.id
    clock.now += timedelta(minutes=1)
    assert registry.report_outcomes(ReportOutcomes(outcomes(bad, 2, 18)), SYSTEM).alerts == 1
    (out,) = hooks.claim("w", lease=timedelta(minutes=1))
    body = json.loads(out.body)
    assert out.kind == body["type"] == "impact.alert"
    assert body["event"]["prompt_name"] == "alerted"
    assert body["event"]["version_id"] == bad
    assert body["event"]["detail"]["label"] == "active"


def test_a_rule_watches_only_a_label_the_prompt_knows_and_keeps_who_set_it_and_when(
    registry: Registry,
) -> None:
    clock = Clock()
    registry = Registry(registry.engine, clock=clock)
    first = registry.create_prompt(CreatePrompt("alerted"), SYSTEM).prompt.active_version_id
    assert first is not None
    with pytest.raises(LabelNotFound):  # a mistyped or never-set label would never fire
        registry.set_alert(
            SetAlert("alerted", "staging", min_success=0.9, window_minutes=5, min_count=5), SYSTEM
        )
    assert registry.list_alerts("alerted", SYSTEM) == []
    registry.move_label(MoveLabel("alerted", "staging", first), SYSTEM)
    set_ = registry.set_alert(
        SetAlert("alerted", "staging", min_success=0.9, window_minutes=5, min_count=5),
        Caller.local("ana"),
    )
    assert (set_.created_by, set_.created_at) == ("ana", clock.now)
    clock.now += timedelta(minutes=3)
    registry.set_alert(
        SetAlert("alerted", "active", min_success=0.5, window_minutes=5, min_count=5), SYSTEM
    )
    [active, staging] = registry.list_alerts("alerted", SYSTEM)
    assert (active.created_by, active.created_at) == ("anonymous", clock.now)
    assert (staging.created_by, staging.created_at) == ("ana", clock.now - timedelta(minutes=3))
