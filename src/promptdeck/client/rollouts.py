"""Rollouts as `Call`s (docs/rollouts.md): the AsyncClient's and Client's rollout methods
send these."""

from __future__ import annotations

from typing import Any

from promptdeck.client._http import Call, seg
from promptdeck.client._ops import _model, _params
from promptdeck.schemas import Page, RolloutOut

ACTIONS = ("pause", "resume", "advance", "abort")


def _path(prompt: str | int, label: str) -> str:
    return f"/prompts/{seg(prompt)}/labels/{seg(label)}/rollout"


def start(prompt: str | int, label: str, plan: dict[str, Any]) -> Call[RolloutOut]:
    return Call("POST", _path(prompt, label), _model(RolloutOut), json=plan, ok=(201,))


def get(prompt: str | int, label: str) -> Call[RolloutOut]:
    return Call("GET", _path(prompt, label), _model(RolloutOut), retry=True)


def control(prompt: str | int, label: str, action: str, reason: str | None) -> Call[RolloutOut]:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    return Call(
        "POST",
        f"{_path(prompt, label)}/{action}",
        _model(RolloutOut),
        json=_params(reason=reason),
    )


def listing(prompt: str | int, *, limit: int | None, cursor: str | None) -> Call[Page[RolloutOut]]:
    return Call(
        "GET",
        f"/prompts/{seg(prompt)}/rollouts",
        _model(Page[RolloutOut]),
        params=_params(limit=limit, cursor=cursor),
        retry=True,
    )
