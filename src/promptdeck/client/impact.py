"""Outcomes, impact and alert rules as `Call`s: the client's outcome methods
(``_async/outcomes.py``) send these."""

from __future__ import annotations

from typing import Any

from promptdeck.client._http import Call, seg
from promptdeck.client._ops import _body, _list, _model, _none, _params
from promptdeck.schemas import (
    AlertOut,
    AlertSet,
    ImpactOut,
    OutcomesOut,
    Page,
    RawOutcomeOut,
    RawOutcomesOut,
)


def report_outcomes(
    outcomes: list[dict[str, Any]], *, timeout: float | None = None
) -> Call[OutcomesOut]:
    # Not retried once sent: a batch that reached the server is counted; twice would double it.
    return Call(
        "POST", "/outcomes", _model(OutcomesOut), json={"outcomes": outcomes}, timeout=timeout
    )


def impact(
    prompt: str | int,
    *,
    since: str | None = None,
    until: str | None = None,
    label: str | None = None,
    compare: tuple[int, int] | None = None,
) -> Call[ImpactOut]:
    pair = None if compare is None else f"{int(compare[0])},{int(compare[1])}"
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/impact",
        _model(ImpactOut),
        params=_params(since=since, until=until, label=label, compare=pair),
        retry=True,
    )


def list_outcomes(
    prompt: str | int,
    *,
    version_id: int | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[RawOutcomesOut]:
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/outcomes",
        _model(RawOutcomesOut),
        params=_params(
            version_id=None if version_id is None else int(version_id),
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        ),
        retry=True,
    )


def outcome_pages(
    prompt: str | int,
    *,
    version_id: int | None,
    since: str | None,
    until: str | None,
    cursor: str | None,
) -> Call[Page[RawOutcomeOut]]:
    """``list_outcomes`` as the plain pages that ``iter_outcomes`` walks (200 a page)."""
    found: Call[Any] = list_outcomes(
        prompt, version_id=version_id, since=since, until=until, limit=200, cursor=cursor
    )
    return found


def list_alerts(prompt: str | int) -> Call[list[AlertOut]]:
    return Call("GET", f"/prompts/{seg(prompt)}/alerts", _list(AlertOut), retry=True)


def set_alert(
    prompt: str | int, label: str, *, min_success: float, window_minutes: int, min_count: int
) -> Call[AlertOut]:
    body = _body(
        AlertSet, min_success=min_success, window_minutes=window_minutes, min_count=min_count
    )
    return Call(
        "PUT",
        f"/prompts/{seg(prompt)}/alerts/{seg(label)}",
        _model(AlertOut),
        json=body,
        retry=True,
    )


def remove_alert(prompt: str | int, label: str) -> Call[None]:
    return Call("DELETE", f"/prompts/{seg(prompt)}/alerts/{seg(label)}", _none, retry=True)
