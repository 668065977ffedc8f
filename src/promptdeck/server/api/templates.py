"""Templates: render a prompt with variables, and a version's includes both ways.
(``server/api/render.py`` is where domain records become wire models; this file is the
``POST …/render`` endpoint.)"""

from __future__ import annotations

from fastapi import APIRouter, Response

from promptdeck import limits
from promptdeck.schemas import IncludeOut, RenderIn, RenderOut
from promptdeck.server.api.prompts import Limit, PromptRef
from promptdeck.server.api.render import includes_out, json_response, rendered_out
from promptdeck.server.api.versions import VersionId
from promptdeck.server.deps import RegistryDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import Reader

router = APIRouter(
    prefix="/prompts/{prompt_id}", tags=["templates"], responses=responses(400, 404, 422)
)


@router.post(
    "/render",
    response_model=RenderOut,
    responses=responses(409),
    summary="Render a version (the active one unless a version is given) with variables",
    description="Includes are resolved now. 422: a missing variable (named), a template "
    "error, an include that resolves to nothing, output over the cap; 409: a purged version.",
)
def render(prompt_id: PromptRef, body: RenderIn, registry: RegistryDep, caller: Reader) -> Response:
    result = registry.render(body.to_command(prompt_id), caller)
    out = result.rendered
    return json_response(
        rendered_out(result.prompt_name, result.version, out.text, out.messages, out.unused)
    )


@router.get(
    "/versions/{version_id}/dependencies",
    response_model=list[IncludeOut],
    summary="What this version includes ({{> other@at}} tags)",
)
def dependencies(
    prompt_id: PromptRef, version_id: VersionId, registry: RegistryDep, caller: Reader
) -> list[IncludeOut]:
    return includes_out(registry.dependencies(prompt_id, version_id, caller))


@router.get(
    "/versions/{version_id}/dependents",
    response_model=list[IncludeOut],
    summary="Unpurged versions that include this version (pinned, or through a label)",
)
def dependents(
    prompt_id: PromptRef,
    version_id: VersionId,
    registry: RegistryDep,
    caller: Reader,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
) -> list[IncludeOut]:
    return includes_out(registry.dependents(prompt_id, version_id, caller, limit=limit))
