"""``POST /prompts/{prompt_id}/run``: a version (or an unsaved draft) run once on a configured
model provider, the whole answer or streamed as Server-Sent Events (server/runs.py). Needs
the write role: it spends the provider's money and is recorded as a ``prompt.run`` event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from promptdeck.schemas import RunIn, RunOut
from promptdeck.server.api.prompts import PromptRef
from promptdeck.server.api.render import json_response
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingWriter
from promptdeck.server.runs import EventStream, PromptRuns, run_out

router = APIRouter(tags=["runs"])

SSE_EVENT = {
    "type": "object",
    "description": 'Server-Sent Events: "delta" ({"text", "tool_calls"?}) as the answer comes, '
    'then "done" (a RunOut) or "error" (a problem document).',
    "properties": {
        "event": {"type": "string", "enum": ["delta", "done", "error"]},
        "data": {"type": "string"},
    },
}


def get_runs(request: Request) -> PromptRuns:
    found: PromptRuns = request.app.state.runs
    return found


RunsDep = Annotated[PromptRuns, Depends(get_runs)]


def wants_stream(accept: str | None) -> bool:
    return accept is not None and "text/event-stream" in accept.lower()


@router.post(
    "/prompts/{prompt_id}/run",
    response_model=RunOut,
    responses={
        200: {
            "description": "The answer (RunOut), or text/event-stream with stream or "
            "Accept: text/event-stream",
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        },
        **responses(400, 404, 409, 413, 422, 429, 502, 504),
    },
    summary="Run a version (or an unsaved draft) once on a model provider",
    description="Renders with the variables (the contract's checks first: 422 naming every "
    "failing path), calls the provider with the version's model_config, tools and "
    "response_format, and answers the output, tool calls, latency, usage and cost. 502/504: "
    "the provider failed or timed out; 429: the caller's runs in flight or per minute.",
)
async def run(
    request: Request,
    prompt_id: PromptRef,
    body: RunIn,
    runs: RunsDep,
    caller: ActingWriter,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    cmd = body.to_command(prompt_id, stream=wants_stream(accept))
    if cmd.stream:
        return EventStream(await runs.stream(cmd, caller, request.url.path))
    return json_response(run_out(await runs.run(cmd, caller)))
