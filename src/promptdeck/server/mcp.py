"""``/mcp``: the registry's prompts over MCP's streamable HTTP transport, in the server,
behind the same keys and roles as every route (docs/mcp.md).

The route (app.py) declares ``Reader`` like any route and hands the request to the SDK's
session manager (``McpEndpoint``). The handlers (mcp_server/handlers.py, shared with
``promptdeck mcp``) act through a ``RegistryBackend`` made for each request's own caller,
found in the HTTP request the SDK carries to them: so a key's role and prompt prefixes
apply to every MCP request, and a session opened by one key answers no other (the SDK
binds a session to the ``user`` in its scope). Only writers are offered ``propose_deploy``,
and the core checks it again; no tool moves a label."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio
import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from promptdeck.core import Registry
from promptdeck.core.live import ChangeFeed
from promptdeck.domain.access import Role
from promptdeck.domain.caller import Caller
from promptdeck.errors import DatabaseUnavailable, InvalidInput, VersionNotFound
from promptdeck.mcp_server.handlers import TOOLS, Backend, Handlers
from promptdeck.schemas import DeployOut, Page, PromptOut, RenderOut, VersionOut, VersionSummaryOut
from promptdeck.schemas.labels import DeployCreate
from promptdeck.schemas.render import RenderIn
from promptdeck.server.api.labels import deploy_out
from promptdeck.server.api.render import prompt_page, rendered_out, summary_page, version_out
from promptdeck.server.roles import READ

log = logging.getLogger("promptdeck.mcp")
T = TypeVar("T")
WRITE_TOOLS = frozenset({"propose_deploy"})


@dataclass(frozen=True, slots=True)
class _Served:
    version_id: int


def _checked(build: Callable[[], T]) -> T:
    """A wire schema built from MCP arguments: its refusal as the API's 422."""
    try:
        return build()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "arguments"
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}", field=where) from None


class RegistryBackend:
    """What the MCP handlers ask, answered by the core as one caller (the wire models the
    API answers with, so the handlers cannot tell it from the client)."""

    def __init__(self, registry: Registry, caller: Caller) -> None:
        self.registry = registry
        self.caller = caller

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))

    async def list_prompts(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[PromptOut]:
        page = await self._run(
            self.registry.list_prompts, self.caller, limit=limit or 50, cursor=cursor
        )
        return prompt_page(page)

    async def get_active(self, prompt: str | int, *, label: str | None = None) -> _Served:
        _, version = await self._run(self.registry.get_active, str(prompt), self.caller, label)
        return _Served(version.id)

    async def get_version(self, prompt: str | int, version: int | str) -> VersionOut:
        if isinstance(version, int):
            found = await self._run(self.registry.get_version, str(prompt), version, self.caller)
            return version_out(found)
        page = await self._run(
            self.registry.list_versions, str(prompt), self.caller, limit=1, name=version
        )
        if not page.items:
            raise VersionNotFound(f"prompt {str(prompt)!r} has no version named {version!r}")
        return await self.get_version(prompt, page.items[0].id)

    async def render(
        self, prompt: str | int, variables: dict[str, Any], *, version: int | str | None = None
    ) -> RenderOut:
        at = None if version is None else str(version)
        cmd = _checked(lambda: RenderIn(variables=variables, version=at)).to_command(str(prompt))
        result = await self._run(self.registry.render, cmd, self.caller)
        out = result.rendered
        return rendered_out(result.prompt_name, result.version, out.text, out.messages, out.unused)

    async def list_versions(
        self, prompt: str | int, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[VersionSummaryOut]:
        page = await self._run(
            self.registry.list_versions, str(prompt), self.caller, limit=limit or 50, cursor=cursor
        )
        return summary_page(page)

    async def propose_deploy(
        self, prompt: str | int, label: str, version: int | str, *, reason: str
    ) -> DeployOut:
        self.caller.need(Role.write)  # as POST …/deploy-requests declares ActingWriter
        version_id = (await self.get_version(prompt, version)).id
        body = _checked(lambda: DeployCreate(label=label, version_id=version_id, reason=reason))
        made = await self._run(
            self.registry.propose_deploy, body.to_command(str(prompt)), self.caller
        )
        return deploy_out(made)


class CallerHandlers(Handlers):
    """The handlers with a backend for each request's caller, and its tools by role."""

    def __init__(self, registry: Registry, *, label: str = "production") -> None:
        super().__init__(None, label=label)
        self.registry = registry

    def backend_for(self, ctx: ServerRequestContext[Any]) -> Backend:
        request = ctx.request
        scope = request.scope if isinstance(request, Request) else {}
        # The route already refused a request without the read role; asked again here,
        # from this very request, since a session's messages arrive over many requests.
        return RegistryBackend(self.registry, READ.caller(scope))

    def tools_for(self, backend: Backend) -> list[types.Tool]:
        writer = isinstance(backend, RegistryBackend) and backend.caller.may(Role.write)
        return [t for t in TOOLS if writer or t.name not in WRITE_TOOLS]


class McpEndpoint:
    """The SDK's session manager for /mcp (run by the app's lifespan: ``running``), and a
    task following label moves into list-changed notifications, started by the first MCP
    request (a server nobody asks over MCP follows nothing)."""

    FOLLOW_WAIT_S = 30.0

    def __init__(self, registry: Registry, feed: ChangeFeed) -> None:
        self.handlers = CallerHandlers(registry)
        self.feed = feed
        self.manager = self._manager()
        self._following: asyncio.Task[None] | None = None

    def _manager(self) -> StreamableHTTPSessionManager:
        # The gate (server/security.py) has checked Host and Origin already.
        return StreamableHTTPSessionManager(
            app=self.handlers.server,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For one run of the app's lifespan (a manager runs once: a new one each time)."""
        self.manager = self._manager()
        try:
            async with self.manager.run():
                yield
        finally:
            task, self._following = self._following, None
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _follow(self) -> None:
        cursor: int | None = None
        while True:
            try:
                moves, cursor = await self.feed.after(cursor, None, self.FOLLOW_WAIT_S)
            except DatabaseUnavailable:
                await asyncio.sleep(0.5)
                continue
            if moves:
                await self.handlers.moved()

    async def __call__(self, scope: Scope, receive: Receive, send: Send, caller: Caller) -> None:
        if self._following is None:
            self._following = asyncio.get_running_loop().create_task(self._follow())
        # The SDK binds a session to the user that opened it: one key's session is
        # "not found" to another.
        token = AccessToken(token="", client_id=f"{caller.kind}:{caller.actor}", scopes=[])
        await self.manager.handle_request(
            {**scope, "user": AuthenticatedUser(token)}, receive, send
        )


class McpResponse(Response):
    """The route's answer: the transport answers the request itself (streams included)."""

    def __init__(self, endpoint: McpEndpoint, caller: Caller) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.caller = caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoint(scope, receive, send, self.caller)
