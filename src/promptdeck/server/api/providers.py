"""/providers: the model providers evaluations (and runs) call (docs/evaluations.md "Model
providers"). Adding, replacing and removing need the admin role; reading, the read role. A
key goes in and never comes out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from promptdeck.domain import providers
from promptdeck.schemas import ProviderCreate, ProviderIn, ProviderOut
from promptdeck.server.api.test_sets import EvaluationsDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingAdmin, Reader

router = APIRouter(prefix="/providers", tags=["providers"], responses=responses(400, 422))

Name = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=providers.NAME_RE.pattern,
        description="The provider's name (a slug).",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=ProviderOut,
    responses=responses(409),
    summary="Add a model provider (admin); a key given is stored sealed, never shown",
)
def add_provider(
    body: ProviderCreate, evaluations: EvaluationsDep, caller: ActingAdmin, response: Response
) -> ProviderOut:
    added = evaluations.add_provider(body.config(body.name), caller, body.secret())
    response.headers["Location"] = f"/providers/{added.name}"
    return ProviderOut.of(added)


@router.get("", response_model=list[ProviderOut], summary="The model providers, by name")
def list_providers(evaluations: EvaluationsDep, caller: Reader) -> list[ProviderOut]:
    return [ProviderOut.of(p) for p in evaluations.list_providers(caller)]


@router.get(
    "/{name}",
    response_model=ProviderOut,
    responses=responses(404),
    summary="One model provider (never its key)",
)
def get_provider(name: Name, evaluations: EvaluationsDep, caller: Reader) -> ProviderOut:
    return ProviderOut.of(evaluations.get_provider(name, caller))


@router.put(
    "/{name}",
    response_model=ProviderOut,
    responses=responses(404, 409),
    summary="Replace a provider's configuration (admin); without api_key or api_key_env its "
    "key stays",
)
def replace_provider(
    name: Name, body: ProviderIn, evaluations: EvaluationsDep, caller: ActingAdmin
) -> ProviderOut:
    replaced = evaluations.replace_provider(
        body.config(name), caller, body.secret(), keep_key=body.keep_key
    )
    return ProviderOut.of(replaced)


@router.delete(
    "/{name}",
    status_code=204,
    responses=responses(404, 409),
    summary="Remove a provider (admin); 409 while evaluations name it",
)
def remove_provider(name: Name, evaluations: EvaluationsDep, caller: ActingAdmin) -> Response:
    evaluations.remove_provider(name, caller)
    return Response(status_code=204)
