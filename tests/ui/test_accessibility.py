"""Every page of the web UI passes axe-core's WCAG 2 A and AA rules (tags ``wcag2a`` and
``wcag2aa``) in Chromium, against a real `promptdeck serve` with something on every page.
axe-core comes bundled in the ``axe-playwright-python`` wheel (axe.min.js, pinned by the
package's version): nothing is fetched when the test runs."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python import sync_playwright as axe

from promptdeck.core import Registry
from promptdeck.core.evaluating import Evaluations
from promptdeck.core.webhooks import Destinations, Webhooks
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion, MoveLabel, ProposeDeploy
from promptdeck.domain.evaluations import StartEvaluation
from promptdeck.domain.outgoing import parse_allowance
from promptdeck.domain.providers import provider_config
from promptdeck.domain.test_sets import Case
from tests.support.load import figure
from tests.support.server import ServerProcess
from tests.ui.conftest import LAPTOP

pytestmark = pytest.mark.sqlite_only

RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}, "resultTypes": ["violations"]}
NAME = "support-reply"


def seed(registry: Registry) -> dict[str, int]:
    """A prompt with three versions, a label, a deploy request; a chat prompt; a webhook and
    a provider: so that each page shows what it can."""
    who = Caller.local("ana")
    made = registry.create_prompt(
        CreatePrompt(NAME, description="Reply to a customer", tags=["support"],
                     content="Hello {{ name }}, thanks for writing.",
                     model_config={"model": "m", "temperature": 0.2}),
        who,
    ).prompt  # fmt: skip
    first = made.active_version_id
    assert first is not None
    second = registry.create_version(CreateVersion(NAME, content="Hi {{ name }}!"), who).version
    registry.create_version(CreateVersion(NAME, content="Hi {{ name }}, sorry!"), who)
    registry.move_label(MoveLabel(NAME, "production", first), who)
    request = registry.propose_deploy(ProposeDeploy(NAME, "production", second.id, "try"), who)
    registry.create_prompt(
        CreatePrompt("chat-bot", messages=[{"role": "system", "content": "Be brief."}]), who
    )
    allowed = parse_allowance("127.0.0.1")
    hook = Webhooks(registry.db, Destinations(allowed)).create("http://127.0.0.1:9/", enabled=False)
    evaluations = Evaluations(registry.db, allowed)
    evaluations.add_provider(provider_config("local", "http://127.0.0.1:9/v1", ["m"]), who)
    cases = [Case({"name": "Ada"}, expected="Hi"), Case({"name": "Bo"})]
    evaluations.create_test_set("smoke", NAME, cases, who)
    reported = ({"type": "reported", "name": "r"},)
    evaluation = evaluations.start_evaluation(
        StartEvaluation(NAME, (first, second.id), "smoke", reported), who
    )
    return {
        "first": first,
        "second": second.id,
        "request": request.id,
        "hook": hook.hook.id,
        "evaluation": evaluation.id,
    }


def pages(ids: dict[str, int]) -> list[str]:
    p = f"/ui/prompts/{NAME}"
    return [
        "/ui/",
        "/ui/new",
        "/ui/sign-in",
        p,
        f"{p}/versions",
        f"{p}/versions/{ids['second']}",
        f"{p}/compare?a={ids['first']}&b={ids['second']}",
        f"{p}/versions/{ids['first']}/rollback",
        f"{p}/labels",
        f"{p}/promote?label=production&v={ids['second']}",
        f"{p}/deploy-requests/{ids['request']}",
        f"{p}/impact",
        f"{p}/delete",
        "/ui/prompts/chat-bot",
        "/ui/prompts/chat-bot/chat",
        "/ui/deleted/gone",
        "/ui/audit",
        "/ui/webhooks",
        f"/ui/webhooks/{ids['hook']}",
        "/ui/providers",
        "/ui/test-sets",
        "/ui/test-sets/smoke",
        f"{p}/evaluations",
        f"/ui/evaluations/{ids['evaluation']}",
        f"{p}/playground",
        "/ui/no-such-page",
    ]


def summary(violation: dict[str, Any]) -> str:
    """The rule, and its first elements with why they fail it."""
    nodes = [
        (n["target"], (n["any"] or n["all"] or n["none"] or [{}])[0].get("message"))
        for n in violation["nodes"][:3]
    ]
    return f"{violation['id']}: {nodes}"


def test_every_page_of_the_ui_passes_axe_cores_wcag_2_a_and_aa_rules(
    browser: Any, server: ServerProcess, registry: Registry
) -> None:
    paths = pages(seed(registry))
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    checker = axe.Axe()
    found: dict[str, list[str]] = {}
    for path in paths:
        page.goto(server.url + path)
        for scheme in ("light", "dark"):  # app.css has both (prefers-color-scheme)
            page.emulate_media(color_scheme=scheme)
            for v in checker.run(page, options=RULES).response["violations"]:
                found.setdefault(f"{path} ({scheme})", []).append(summary(v))
    context.close()
    figure(
        "accessibility",
        f"{len(paths)} UI pages, light and dark, checked with axe-core's wcag2a and wcag2aa "
        "rules, "
        f"{sum(len(v) for v in found.values())} rules failing",
    )
    assert found == {}, "\n".join(f"{path}: {rules}" for path, rules in found.items())
