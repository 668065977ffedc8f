"""schemathesis hooks (SCHEMATHESIS_HOOKS) for the positive check: where the server is
stricter than JSON Schema can say, a refusal naming one of these fields is not a lie of the
document. Each rule is also written in the field's or the operation's description."""

from __future__ import annotations

import re
from typing import Any

import schemathesis

# (operation or "*", the problem's `field` as a regex) -> why no schema can say it.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("*", r"tags(\.\d+)?|version_name"): "names are NFC and hold no control, invisible or "
    "unassigned character: Unicode categories, which JSON Schema's regex dialect lacks",
    ("*", r"model_config"): "every number at any depth must come back as written (|x| < 1e15, "
    "no -0.0, integers within 2**53): a rule on all nested values of a free-form object",
    ("POST /keys", r"name"): "letters of any script (Unicode categories again)",
    ("POST /users", r"name"): "letters of any script (Unicode categories again)",
    ("*", r"secret"): "a webhook secret is printable: Unicode categories",
    ("*", r"url"): "which hosts a webhook may reach is the server's configuration",
    ("GET /prompts/{prompt_id}/impact", r"until"): "until after since: two fields compared",
    ("GET /prompts/{prompt_id}/outcomes", r"until"): "until not before since: two fields compared",
    ("POST /outcomes", r"outcomes\.\d+\.(prompt_id|version_id|at)"): "an outcome names a "
    "version that exists, of that prompt, at a time near the server's clock",
    ("*", r"messages|content"): "kind and messages go together (chat needs messages and no "
    "content, text takes no messages): a rule across fields, said in kind's description",
    ("POST /prompts/{prompt_id}/render", r"variables|"): "the variables and includes a render "
    "needs are the stored template's",
    ("*", r"Idempotency-Key"): "a key already used for another request: the server's state",
    ("POST /prompts/{prompt_id}/labels/{label}/rollout", r"steps(\.\d+)?|guard(\..+)?"): "a "
    "plan's fields go together (steps only go up and end at 100; each measure its margin): "
    "domain/rollouts/plan.py checks the plan whole, as the fields' descriptions say",
    ("POST /prompts/{prompt_id}/deploy-requests", r"plan(\..+)?"): "the same plan, checked whole",
    ("POST /prompts/import", r".*"): "a record's history must hold together (hashes, numbers, "
    "events, labels): domain/history.py checks it as a whole",
    # Evaluations (issue 25): rules across fields or on the server's state, each said in the
    # fields' descriptions (schemas/evaluations.py) and docs/evaluations.md.
    (
        "POST /test-sets",
        r"(cases|import)(\[\d+\]|\..+)*|body",
    ): "cases or import, exactly one; each "
    "case's variables are checked against the prompt's contract; an import's data is a JSONL "
    "or CSV document, parsed whole",
    (
        "POST /test-sets/{name}/cases",
        r"(cases|import)(\[\d+\]|\..+)*|body",
    ): "the same cases, checked against the set's prompt's contract",
    (
        "POST /prompts/{prompt_id}/evaluations",
        r"(evaluators|version_ids)(\[\d+\]|\..+)*|provider|model",
    ): (
        "each evaluator's settings depend on its type and are checked whole "
        "(domain/evaluators.py); the versions must be the prompt's; providers are the server's "
        "configuration"
    ),
    # Model providers: where the base URL may lead is the server's configuration; a model
    # name is printable (Unicode categories); a key variable's name may not start with
    # PROMPTDECK_ (a lookahead: not in the schema's regex dialect); prices name models; a key
    # is printable ASCII, given as api_key or api_key_env, not both (schemas/providers.py).
    **{
        (op, r"base_url|models(\.\d+)?|api_key|api_key_env|prices(\..+)?"): "a provider's "
        "rules across fields and on the server's configuration, said in their descriptions"
        for op in ("POST /providers", "PUT /providers/{name}")
    },
    ("POST /evaluations/{evaluation_id}/results", r"results(\..+)?"): "a result names an item "
    "of this evaluation and one of its reported evaluators: the server's state",
    (
        "POST /prompts/{prompt_id}/run",
        r"version_id|draft(\..+)?|variables(\..+)?|model|model_config(\..+)?|contract(\..+)?|body|",
    ): (
        "a version or a draft, not both; a draft is checked as a new version (its template, "
        "contract and model_config whole); the variables against the contract; the model among "
        "the provider's: rules across fields and on the server's configuration"
    ),
    ("POST /prompts/{prompt_id}/deploy-requests/{request_id}/approve", r"reason"): "override_gate "
    "needs a reason: two fields together, said in override_gate's description",
}


def excused(operation: str, field: str | None) -> str | None:
    """The reason a refusal of this operation naming this field is expected, if any."""
    for (where, pattern), why in EXCEPTIONS.items():
        if where in ("*", operation) and re.fullmatch(pattern, field or ""):
            return why
    return None


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    if type(failure).__name__ != "RejectedPositiveData" or response.status_code != 422:
        return True
    try:
        field = response.json().get("field")
    except ValueError:
        return True
    return excused(f"{case.method.upper()} {case.operation.path}", field) is None
