"""In Chromium (issue 16): a prompt with two versions and a rollback. The impact page's
server-drawn chart shows success drop at the bad version's activation and recover at the
rollback, both marked on the time axis; the alert offers a rollback; the version page shows
the bad version beside the one before it, worse, with its p-value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    ReportOutcomes,
    Rollback,
    SetAlert,
)
from promptdeck.domain.impact import Outcome
from tests.support.server import ServerProcess
from tests.ui.conftest import LAPTOP
from tests.ui.test_browser import watch_errors

pytestmark = pytest.mark.sqlite_only

PER_MINUTE = 30


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def minutes(version_id: int, start: datetime, count: int, good: bool) -> list[Outcome]:
    """PER_MINUTE outcomes a minute: 29 of 30 succeed for a good version, 15 for a bad one."""
    found = []
    for m in range(count):
        at = start + timedelta(minutes=m, seconds=1)
        for i in range(PER_MINUTE):
            ok = i != 0 if good else i % 2 == 0
            score = (0.85 if good else 0.5) + (i % 3) / 100
            found.append(Outcome("checkout", version_id, success=ok, score=score, at=at))
    return found


def seed(registry: Registry) -> tuple[int, int, datetime, datetime]:
    """v1 for 30 minutes, v2 (bad) for 30, then a rollback to v1 for 30."""
    t0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=95)
    clock = Clock(t0)
    timed = Registry(registry.engine, clock=clock)
    v1 = timed.create_prompt(
        CreatePrompt("checkout", content="Be helpful."), Caller.local("ana")
    ).prompt
    assert v1.active_version_id is not None
    timed.set_alert(
        SetAlert("checkout", "active", min_success=0.9, window_minutes=15, min_count=50), SYSTEM
    )
    clock.now = t0 + timedelta(minutes=30)
    timed.report_outcomes(
        ReportOutcomes(minutes(v1.active_version_id, t0 + timedelta(minutes=1), 29, good=True)),
        SYSTEM,
    )
    moved = t0 + timedelta(minutes=30, seconds=30)
    clock.now = moved
    v2 = timed.create_version(
        CreateVersion("checkout", content="Be terse.", activate=True), Caller.local("bo")
    )
    for part in range(3):
        start = t0 + timedelta(minutes=31 + 10 * part)
        clock.now = start + timedelta(minutes=10)
        timed.report_outcomes(
            ReportOutcomes(minutes(v2.version.id, start, 10 if part < 2 else 9, good=False)), SYSTEM
        )
    back = t0 + timedelta(minutes=60, seconds=30)
    clock.now = back
    timed.rollback(Rollback("checkout", v1.active_version_id), Caller.local("ana"))
    clock.now = t0 + timedelta(minutes=91)
    timed.report_outcomes(
        ReportOutcomes(minutes(v1.active_version_id, t0 + timedelta(minutes=61), 29, good=True)),
        SYSTEM,
    )
    return v1.active_version_id, v2.version.id, moved, back


def test_the_impact_chart_shows_the_drop_at_the_activation_and_the_recovery_at_the_rollback(
    browser: Any, server: ServerProcess, registry: Registry, shots: Path
) -> None:
    v1, v2, moved, back = seed(registry)
    page = browser.new_context(viewport=LAPTOP).new_page()
    problems = watch_errors(page)
    page.goto(server.url + "/ui/prompts/checkout")
    page.get_by_role("link", name="Impact").click()
    chart = page.locator("svg.impact-chart")
    assert chart.is_visible()
    page.screenshot(path=str(shots / "impact.png"), full_page=True)

    def box_x(locator: Any) -> float:
        box = locator.bounding_box()
        assert box is not None
        return float(box["x"] + box["width"] / 2)

    activations = chart.locator('g.mark[data-kind="version.activated"]')
    assert activations.count() == 2  # v1 at creation, then v2
    activation = chart.locator(f'g.mark[data-kind="version.activated"][data-version-id="{v2}"]')
    rollback = chart.locator('g.mark[data-kind="version.rolled_back"]')
    assert rollback.count() == 1
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    assert activation.get_attribute("data-at") == moved.strftime(stamp)
    assert rollback.get_attribute("data-at") == back.strftime(stamp)
    assert "#2 activated" in activation.text_content()
    assert "rollback to #1" in rollback.text_content()
    x_activation, x_rollback = box_x(activation.locator("line")), box_x(rollback.locator("line"))
    assert x_activation < x_rollback

    points = chart.locator("circle.pt.success")
    before, during, after = [], [], []
    for i in range(points.count()):
        point = points.nth(i)
        box = point.bounding_box()
        assert box is not None  # drawn, on screen
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        value = float(point.get_attribute("data-value"))
        (before if x < x_activation else during if x < x_rollback else after).append((value, y))
    assert before and during and after
    # The drop: every point while v2 served is lower (further down the screen) than every
    # point before its activation, and the recovery: every point after the rollback is high.
    assert max(v for v, _ in during) < 0.6 < 0.9 < min(v for v, _ in before + after)
    assert min(y for _, y in during) > max(y for _, y in before + after)

    # The alert the bad activation raised, with a one-click way back.
    alert = page.locator("#alerts .alert-item")
    assert "alert: active" in alert.text_content()
    assert chart.locator('g.mark[data-kind="impact.alert"]').count() == 1
    alert.get_by_role("link", name="Roll back to #1").click()
    assert page.url.endswith(f"/ui/prompts/checkout/versions/{v1}/rollback")

    # The version page: v2 beside v1, worse, with the test and its p-value.
    page.goto(server.url + f"/ui/prompts/checkout/versions/{v2}")
    rows = page.locator("#version-impact table.impact").first.locator("tbody tr")
    assert rows.count() == 2
    verdict = page.locator('#version-impact tr[data-measure="success_rate"]')
    assert verdict.get_attribute("data-verdict") == "worse"
    assert "chi2 contingency" in verdict.text_content()
    page.screenshot(path=str(shots / "impact-version.png"), full_page=True)
    assert problems == []


def test_a_writer_saves_and_removes_an_alert_rule_from_the_impact_tab(
    browser: Any, server: ServerProcess, registry: Registry, shots: Path
) -> None:
    registry.create_prompt(CreatePrompt("refunds", content="Be kind."), Caller.local("ana"))
    page = browser.new_context(viewport=LAPTOP).new_page()
    problems = watch_errors(page)
    page.goto(server.url + "/ui/prompts/refunds/impact")
    form = page.locator("#alert-rule-form")
    form.get_by_label("Label").select_option("production")
    form.get_by_label("Min success").fill("0.85")
    form.get_by_label("Window").fill("30")
    form.get_by_label("Your name").fill("Zoë")
    form.get_by_role("button", name="Save rule").click()
    page.get_by_text("Alert rule saved.").wait_for()
    row = page.locator('#alert-rules-table tr[data-label="production"]')
    assert "85.0%" in row.inner_text() and "30 min" in row.inner_text()
    assert "by Zoë" in row.inner_text()
    page.locator("#alert-rules").screenshot(path=str(shots / "impact-alert-rules.png"))
    [rule] = registry.list_alerts("refunds", SYSTEM)
    assert (rule.label, rule.min_success, rule.window_minutes, rule.min_count) == (
        "production",
        0.85,
        30,
        20,
    )
    row.get_by_role("button", name="Remove production rule").click()
    page.get_by_text("Alert rule removed.").wait_for()
    assert registry.list_alerts("refunds", SYSTEM) == []
    assert page.locator('#alert-rules-table tr[data-label="production"]').count() == 0
    assert problems == []
