"""After hostile traffic: is everything still readable, and did a refused request write?"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

# Every write leaves a row in one of these (a prompt, a version, an event, a key).
_FINGERPRINT = sa.text(
    "SELECT (SELECT count(*) FROM prompts), (SELECT count(*) FROM versions),"
    " (SELECT count(*) FROM events), (SELECT count(*) FROM idempotency_keys),"
    " (SELECT coalesce(sum(revision), 0) FROM prompts)"
)


def fingerprint(engine: Engine) -> tuple[int, ...]:
    """What any committed write changes (row counts and the prompts' revisions)."""
    with engine.connect() as conn:
        return tuple(int(x) for x in conn.execute(_FINGERPRINT).one())


@dataclass
class Sweep:
    requests: int = 0
    failures: list[str] = field(default_factory=list)


def _get(client: httpx.Client, path: str, sweep: Sweep, **params: str) -> httpx.Response:
    response = client.get(path, params=params)
    sweep.requests += 1
    if response.status_code != 200:
        sweep.failures.append(f"GET {path} {params} -> {response.status_code}")
    return response


def health_sweep(client: httpx.Client) -> Sweep:
    """The list (live and deleted), the export, and every prompt's read paths all answer
    200 with JSON, page after page."""
    sweep = Sweep()
    ids: list[int] = []
    for deleted in ("false", "true"):
        cursor = None
        while True:
            params = {"limit": "200", "deleted": deleted, **({"cursor": cursor} if cursor else {})}
            page = _get(client, "/prompts", sweep, **params)
            if page.status_code != 200:
                break
            body = page.json()
            if deleted == "false":
                ids += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
    cursor = None
    while True:
        page = _get(client, "/export", sweep, **({"cursor": cursor} if cursor else {}))
        if page.status_code != 200:
            break
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    for prompt_id in ids:
        for path in ("", "/active", "/versions", "/events", "/export", "/storage"):
            _get(client, f"/prompts/{prompt_id}{path}", sweep)
        ui = client.get(f"/ui/prompts/{prompt_id}")
        sweep.requests += 1
        if ui.status_code >= 500:
            sweep.failures.append(f"GET /ui/prompts/{prompt_id} -> {ui.status_code}")
    return sweep
