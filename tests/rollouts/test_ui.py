"""The UI's rollout pieces, in-process over the real database: the labels page shows a
rollout in progress (step, share, outcomes per arm, the comparison with its interval, the
guard's say, the controls); the promote page starts one; the controls work from the page;
the impact chart marks its steps."""

from __future__ import annotations

import random
import re

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import ControlRollout, ReportOutcomes, StartRollout
from tests.rollouts.helpers import outcomes, plan, two_versions


def test_the_labels_page_shows_a_rollout_in_progress_with_its_guard_and_controls(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, candidate = two_versions(registry, name)
    registry.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    rng = random.Random(5)
    registry.report_outcomes(
        ReportOutcomes(
            [*outcomes(name, baseline, 400, 0.9, rng), *outcomes(name, candidate, 250, 0.9, rng)]
        ),
        SYSTEM,
    )
    page = api.get(f"/ui/prompts/{name}/labels").text
    card = page[page.index('id="rollout-production"') :]
    assert 'data-status="running"' in card and 'data-percent="5"' in card
    assert '<li class="current">5%</li>' in card
    assert re.search(r'class="arm-baseline">.*?400', card, re.S)
    assert re.search(r'class="arm-candidate">.*?250', card, re.S)
    assert 'class="interval"' in card and 'data-verdict="within"' in card
    assert "Latest judgement" in card and "/rollout/pause" in card and "/rollout/abort" in card
    assert "rollout: #2 at 5%" in page  # the label's row says it


def test_a_rollout_is_started_from_the_promote_page_and_controlled_from_the_labels_page(
    api: TestClient, registry: Registry, name: str
) -> None:
    _, candidate = two_versions(registry, name)
    promote = api.get(f"/ui/prompts/{name}/promote", params={"label": "production", "v": candidate})
    assert 'id="rollout-form"' in promote.text
    form = {
        "version_id": str(candidate),
        "steps": "10, 50, 100",
        "measure": "success_rate",
        "max_drop": "0.05",
        "min_outcomes": "100",
        "minutes": "0",
        "outcomes": "",
        "reason": "from the page",
    }
    started = api.post(f"/ui/prompts/{name}/labels/production/rollout", data=form)
    assert started.status_code == 200 and "Rollout started." in started.text
    rollout = registry.get_rollout(name, "production", SYSTEM)
    assert (rollout.percent, rollout.state.plan.reason) == (10, "from the page")
    paused = api.post(f"/ui/prompts/{name}/labels/production/rollout/pause", data={"reason": "x"})
    assert "Rollout paused." in paused.text and 'data-status="paused"' in paused.text
    api.post(f"/ui/prompts/{name}/labels/production/rollout/abort", data={})
    assert registry.get_rollout(name, "production", SYSTEM).status == "aborted"
    again = api.post(f"/ui/prompts/{name}/labels/production/rollout/resume", data={})
    assert again.status_code == 409


def test_a_bad_plan_from_the_page_is_a_422_naming_its_field(
    api: TestClient, registry: Registry, name: str
) -> None:
    _, candidate = two_versions(registry, name)
    bad = api.post(
        f"/ui/prompts/{name}/labels/production/rollout",
        data={"version_id": str(candidate), "steps": "5, fifty, 100", "max_drop": "0.02"},
    )
    assert bad.status_code == 422 and "steps.1" in bad.text


def test_the_impact_chart_marks_the_rollouts_steps(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, candidate = two_versions(registry, name)
    registry.report_outcomes(
        ReportOutcomes(list(outcomes(name, baseline, 20, 0.9, random.Random(1)))), SYSTEM
    )
    registry.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    registry.control_rollout(ControlRollout(name, "production", "advance"), SYSTEM)
    page = api.get(f"/ui/prompts/{name}/impact").text
    assert 'data-kind="rollout.started"' in page and 'data-kind="rollout.advanced"' in page
    assert "production: #2 at 25%" in page
