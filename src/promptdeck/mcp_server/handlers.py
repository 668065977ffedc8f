"""The registry's prompts over the Model Context Protocol (docs/mcp.md), written once
against `Backend`, the few reads and writes the handlers need: the Python client
(`AsyncClient`) is one (`promptdeck mcp`, stdio), and a server-side one can serve the
streamable HTTP transport with the caller's own key and role.

- ``prompts/list``: every prompt, with the variables of the version its label serves as
  arguments (from the version's contract when it has one, else its template's variables,
  each required); ``prompts/get``: rendered by the server's render API.
- The label: ``production`` where the prompt has one, else ``active`` (``--label``
  changes the first choice); what an assistant reads is what applications serve.
- ``notifications/prompts/list_changed`` when a label moves (from GET /changes): to
  ``subscriptions/listen`` streams (protocol 2026-07-28) and to every handshake-era
  session that has spoken.
- Tools: ``prompt_history``, ``prompt_diff`` (read), ``propose_deploy`` (write): a deploy
  request, never a label move; the server checks the caller's role on each.
"""

from __future__ import annotations

import difflib
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import mcp_types as types
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, PromptsListChanged
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS

from promptdeck.domain.templates import PLACEHOLDER, decode_messages
from promptdeck.errors import LabelNotFound, NotFound, PromptdeckError
from promptdeck.schemas import DeployOut, Page, PromptOut, RenderOut, VersionOut, VersionSummaryOut
from promptdeck.version import __version__

log = logging.getLogger("promptdeck.mcp")
PAGE = 50  # prompts per prompts/list page (each may cost a version read, then cached)
FALLBACK_LABEL = "active"


class Served(Protocol):
    @property
    def version_id(self) -> int: ...


class Backend(Protocol):
    """What the handlers ask of the registry (the client's methods, by name)."""

    async def list_prompts(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[PromptOut]: ...
    async def get_active(self, prompt: str | int, *, label: str | None = None) -> Served: ...
    async def get_version(self, prompt: str | int, version: int | str) -> VersionOut: ...
    async def render(
        self, prompt: str | int, variables: dict[str, Any], *, version: int | str | None = None
    ) -> RenderOut: ...
    async def list_versions(
        self, prompt: str | int, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[VersionSummaryOut]: ...
    async def propose_deploy(
        self, prompt: str | int, label: str, version: int | str, *, reason: str
    ) -> DeployOut: ...


# --- prompts -----------------------------------------------------------------------------------


def arguments_of(version: VersionOut) -> list[types.PromptArgument]:
    """From the version's contract (issue 23) when it has a variables schema, else from
    its template: each variable required, a chat placeholder as JSON messages."""
    contract = getattr(version, "contract", None)
    schema = contract.get("variables") if isinstance(contract, dict) else None
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        required = set(schema.get("required") or ())
        out = []
        for name, prop in schema["properties"].items():
            prop = prop if isinstance(prop, dict) else {}
            kind = prop.get("type")
            what = prop.get("description") or (f"{kind} (as JSON)" if kind != "string" else None)
            out.append(types.PromptArgument(name=name, description=what, required=name in required))
        return out
    placeholders: set[str] = set()
    if version.kind == "chat" and version.content is not None:
        placeholders = {
            m["name"] for m in decode_messages(version.content) if m["role"] == PLACEHOLDER
        }
    return [
        types.PromptArgument(
            name=name,
            description="a JSON list of messages" if name in placeholders else None,
            required=True,
        )
        for name in version.variables or []
    ]


def values_of(version: VersionOut, arguments: dict[str, str]) -> dict[str, Any]:
    """MCP arguments are text: a placeholder's, or a contract's non-string variable's, is
    read as JSON (the server then checks it)."""
    contract = getattr(version, "contract", None)
    schema = contract.get("variables") if isinstance(contract, dict) else None
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    placeholders: set[str] = set()
    if version.kind == "chat" and version.content is not None:
        placeholders = {
            m["name"] for m in decode_messages(version.content) if m["role"] == PLACEHOLDER
        }
    out: dict[str, Any] = {}
    for name, text in arguments.items():
        typed = isinstance(props.get(name), dict) and props[name].get("type") not in (
            None,
            "string",
        )
        if name in placeholders or typed:
            try:
                out[name] = json.loads(text)
            except ValueError as exc:
                raise MCPError(INVALID_PARAMS, f"argument {name!r} must be JSON: {exc}") from exc
        else:
            out[name] = text
    return out


def messages_of(rendered: RenderOut) -> list[types.PromptMessage]:
    """MCP prompt messages are a user's or an assistant's: a system message is given as the
    user's (MCP has no system role), as are a text prompt's and a tool message's texts."""
    if rendered.kind == "text":
        pairs = [("user", rendered.text or "")]
    else:
        pairs = [
            ("assistant" if m.get("role") == "assistant" else "user", str(m.get("content", "")))
            for m in rendered.messages or []
        ]
    return [
        types.PromptMessage(role=role, content=types.TextContent(text=text)) for role, text in pairs
    ]


# --- tools -------------------------------------------------------------------------------------

TOOLS = [
    types.Tool(
        name="prompt_history",
        description="A prompt's versions, newest first: number, id, name, description, who, when.",
        input_schema={
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": "The prompt's name."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            },
            "required": ["prompt"],
        },
    ),
    types.Tool(
        name="prompt_diff",
        description="A unified diff of two versions of a prompt (content and model config).",
        input_schema={
            "type": "object",
            "properties": {
                "prompt": {"type": "string"},
                "from_version": {"type": "string", "description": "A version id or name."},
                "to_version": {"type": "string", "description": "A version id or name."},
            },
            "required": ["prompt", "from_version", "to_version"],
        },
    ),
    types.Tool(
        name="propose_deploy",
        description="Ask for a label (production, staging…) to move to a version: a deploy "
        "request a person approves. Never moves the label itself. Needs the write role.",
        input_schema={
            "type": "object",
            "properties": {
                "prompt": {"type": "string"},
                "label": {"type": "string"},
                "version": {"type": "string", "description": "A version id or name."},
                "reason": {"type": "string", "description": "Why (kept in the history)."},
            },
            "required": ["prompt", "label", "version", "reason"],
        },
    ),
]


def version_ref(text: Any) -> int | str:
    text = str(text)
    return int(text) if text.isascii() and text.isdigit() else text


def diff_text(a: VersionOut, b: VersionOut) -> str:
    def lines(v: VersionOut) -> list[str]:
        config = json.dumps(v.llm_config or {}, indent=2, sort_keys=True, ensure_ascii=False)
        text = (v.content or "").splitlines()
        return [line + "\n" for line in [*text, "", "--- model_config ---", *config.splitlines()]]

    found = difflib.unified_diff(
        lines(a), lines(b), f"{a.version_name} (#{a.number})", f"{b.version_name} (#{b.number})"
    )
    return "".join(found) or "no differences"


class Handlers:
    """The MCP server of one backend: `server` to run on a transport, `moved` to call when
    a label moves (the client's GET /changes follower calls it). A subclass may give each
    request a backend of its own (`backend_for`: the server's /mcp acts as each request's
    caller, server/mcp.py) and list the tools that backend may call (`tools_for`)."""

    def __init__(self, backend: Backend | None, *, label: str = "production") -> None:
        self.backend = backend
        self.label = label
        self.bus = InMemorySubscriptionBus()
        self.sessions: weakref.WeakSet[ServerSession] = weakref.WeakSet()
        self.arguments: dict[int, list[types.PromptArgument]] = {}  # by version id: immutable
        self.server: Server[Any] = Server(
            "promptdeck",
            version=__version__,
            instructions="The prompts of a promptdeck registry, rendered by the server.",
            on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_subscriptions_listen=ListenHandler(self.bus),
        )
        # Handshake-era sessions are told prompts/list changes (the HTTP session manager
        # asks the server itself for its options, so the default says so).
        made = self.server.create_initialization_options

        def options(notification_options: Any = None, *args: Any, **kwargs: Any) -> Any:
            given = notification_options or NotificationOptions(prompts_changed=True)
            return made(given, *args, **kwargs)

        self.server.create_initialization_options = options  # type: ignore[method-assign]

    def options(self) -> Any:
        return self.server.create_initialization_options()

    async def moved(self) -> None:
        """A label moved: tell every client to list the prompts again."""
        await self.bus.publish(PromptsListChanged())
        for session in list(self.sessions):
            try:
                await session.send_prompt_list_changed()
            except Exception as exc:  # a closed session must not stop the others
                log.debug("promptdeck mcp: a session did not take list_changed: %s", exc)

    def backend_for(self, ctx: ServerRequestContext[Any]) -> Backend:
        """The backend this request acts through: the one given, for every request."""
        if self.backend is None:
            raise MCPError(INVALID_PARAMS, "no backend for this request")
        return self.backend

    def tools_for(self, backend: Backend) -> list[types.Tool]:
        return TOOLS

    def _seen(self, ctx: ServerRequestContext[Any]) -> None:
        session = getattr(ctx, "session", None)
        if isinstance(session, ServerSession):
            self.sessions.add(session)

    async def _serving(self, backend: Backend, name: str) -> tuple[str, VersionOut]:
        """The label used for ``name`` and the version it serves."""
        label = self.label
        try:  # the client's cache, kept fresh by GET /changes: no request while it holds
            served = await backend.get_active(name, label=label)
        except LabelNotFound:
            label = FALLBACK_LABEL
            served = await backend.get_active(name, label=label)
        return label, await backend.get_version(name, served.version_id)

    async def _list_prompts(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        self._seen(ctx)
        backend = self.backend_for(ctx)
        page = await self._call(
            lambda: backend.list_prompts(limit=PAGE, cursor=params.cursor if params else None)
        )
        prompts = []
        for p in page.items:
            if p.active_version is None:
                continue
            try:
                _, version = await self._serving(backend, p.name)
            except NotFound:  # deleted meanwhile
                continue
            arguments = self.arguments.get(version.id)
            if arguments is None:
                arguments = self.arguments[version.id] = arguments_of(version)
            prompts.append(
                types.Prompt(name=p.name, description=p.description or None, arguments=arguments)
            )
        return types.ListPromptsResult(prompts=prompts, next_cursor=page.next_cursor)

    async def _get_prompt(
        self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        self._seen(ctx)
        backend = self.backend_for(ctx)
        label, version = await self._call(lambda: self._serving(backend, params.name))
        variables = values_of(version, params.arguments or {})
        rendered = await self._call(
            lambda: backend.render(params.name, variables, version=version.number)
        )
        what = f"{params.name} #{version.number} ({version.version_name}), served by {label}"
        return types.GetPromptResult(description=what, messages=messages_of(rendered))

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        self._seen(ctx)
        return types.ListToolsResult(tools=self.tools_for(self.backend_for(ctx)))

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        self._seen(ctx)
        args = params.arguments or {}
        try:
            text = await self._tool(self.backend_for(ctx), params.name, args)
        except PromptdeckError as exc:  # the server's answer, as the tool's error
            return types.CallToolResult(
                content=[types.TextContent(text=f"{exc.title}: {exc.detail}")], is_error=True
            )
        except (KeyError, TypeError, ValueError) as exc:
            return types.CallToolResult(
                content=[types.TextContent(text=f"bad arguments: {exc}")], is_error=True
            )
        return types.CallToolResult(content=[types.TextContent(text=text)])

    async def _tool(self, backend: Backend, name: str, args: dict[str, Any]) -> str:
        prompt = str(args["prompt"])
        if name == "prompt_history":
            limit = max(1, min(100, int(args.get("limit", 20))))
            page = await backend.list_versions(prompt, limit=limit)
            return "\n".join(
                f"#{v.number} id={v.id} {v.version_name}{' (active)' if v.active else ''} "
                f"by {v.created_by} at {v.created_at.isoformat()}: {v.description}"
                for v in page.items
            )
        if name == "prompt_diff":
            a = await backend.get_version(prompt, version_ref(args["from_version"]))
            b = await backend.get_version(prompt, version_ref(args["to_version"]))
            return diff_text(a, b)
        if name == "propose_deploy":
            made = await backend.propose_deploy(
                prompt, str(args["label"]), version_ref(args["version"]), reason=str(args["reason"])
            )
            return (
                f"deploy request {made.id} ({made.status}): move {made.label} of {prompt} to "
                f"version {made.version_id}; an admin approves it (promptdeck deploys approve)"
            )
        raise ValueError(f"no tool {name!r}")

    @staticmethod
    async def _call(fn: Callable[[], Awaitable[Any]]) -> Any:
        """The registry's refusal as an MCP error the client shows (not a crash)."""
        try:
            return await fn()
        except PromptdeckError as exc:
            raise MCPError(INVALID_PARAMS, f"{exc.title}: {exc.detail}") from exc
