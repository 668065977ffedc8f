"""Model providers as `Call`s (docs/evaluations.md "Model providers"): the AsyncClient's and
Client's provider methods send these. A key goes in (``api_key``) and never comes out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptdeck.client._http import Call, seg
from promptdeck.client._ops import _list, _model, _none
from promptdeck.schemas import ProviderOut


def add(body: dict[str, Any]) -> Call[ProviderOut]:
    return Call("POST", "/providers", _model(ProviderOut), json=body, ok=(201,))


def listing() -> Call[list[ProviderOut]]:
    return Call("GET", "/providers", _list(ProviderOut), retry=True)


def get(name: str) -> Call[ProviderOut]:
    return Call("GET", f"/providers/{seg(name)}", _model(ProviderOut), retry=True)


def replace(name: str, body: dict[str, Any]) -> Call[ProviderOut]:
    return Call("PUT", f"/providers/{seg(name)}", _model(ProviderOut), json=body, retry=True)


def remove(name: str) -> Call[None]:
    return Call("DELETE", f"/providers/{seg(name)}", _none, ok=(204,), retry=True)


def body(
    base_url: str,
    models: list[str],
    prices: Mapping[str, Mapping[str, float]] | None,
    timeouts: Mapping[str, float] | None,
    retry_attempts: int | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"base_url": base_url, "models": list(models)}
    if prices is not None:
        body["prices"] = {m: dict(p) for m, p in prices.items()}
    if timeouts is not None:
        body["timeouts"] = dict(timeouts)
    if retry_attempts is not None:
        body["retry"] = {"attempts": retry_attempts}
    return body


def key_fields(api_key: str | None, api_key_env: str | None, *, drop_key: bool) -> dict[str, Any]:
    if api_key is not None or api_key_env is not None:
        return {"api_key": api_key, "api_key_env": api_key_env}
    return {"api_key": None, "api_key_env": None} if drop_key else {}
