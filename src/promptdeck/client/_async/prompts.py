"""Prompts and their versions: create, list, read, edit, delete; snapshot, render, roll back;
archive, restore and purge (retention); what a version includes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from promptdeck.client import _ops as ops
from promptdeck.client import _otel as otel
from promptdeck.client._async.base import AsyncSender
from promptdeck.client._ops import UNSET, Unset
from promptdeck.schemas import (
    EventOut,
    IncludeOut,
    Page,
    PromptOut,
    RenderOut,
    RollbackOut,
    RunOut,
    StorageOut,
    VersionDiffOut,
    VersionOut,
    VersionSummaryOut,
)


class AsyncPromptMethods(AsyncSender):
    # --- prompts --------------------------------------------------------------------------

    async def create_prompt(
        self,
        name: str,
        content: str = "",
        *,
        description: str = "",
        tags: list[str] | None = None,
        model_config: dict[str, Any] | None = None,
        version_name: str | None = None,
        version_description: str = "",
        max_versions: int | None = None,
        idempotency_key: str | None = None,
        messages: list[dict[str, Any]] | None = None,
        template_format: str | None = None,
        contract: dict[str, Any] | None = None,
    ) -> PromptOut:
        """Create a prompt and its first version (active). Retries are safe: each call sends
        an ``Idempotency-Key`` (a fresh one unless given). ``max_versions``: keep at most this
        many versions unarchived (default: the server's ``PROMPTDECK_DEFAULT_MAX_VERSIONS``).
        ``messages``: the first version is a chat one; ``contract``: its contract (issue 23),
        sent as given."""
        return await self._send(
            ops.create_prompt(
                name,
                content=content,
                description=description,
                tags=tags,
                model_config=model_config,
                version_name=version_name,
                version_description=version_description,
                max_versions=max_versions,
                idempotency_key=idempotency_key,
                messages=messages,
                template_format=template_format,
                contract=contract,
            )
        )

    async def list_prompts(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        q: str | None = None,
        tag: str | None = None,
        deleted: bool = False,
    ) -> Page[PromptOut]:
        """One page of prompts (oldest first); pass ``next_cursor`` back for the next.
        ``deleted=True``: only soft-deleted prompts, each with ``deleted_at`` (bring one back
        with ``restore_prompt``)."""
        return await self._send(
            ops.list_prompts(limit=limit, cursor=cursor, q=q, tag=tag, deleted=deleted)
        )

    def iter_prompts(
        self, *, q: str | None = None, tag: str | None = None, deleted: bool = False
    ) -> AsyncIterator[PromptOut]:
        """Every prompt (with ``deleted``: every soft-deleted one), page after page."""
        return self._items(
            lambda cursor: ops.list_prompts(limit=200, cursor=cursor, q=q, tag=tag, deleted=deleted)
        )

    async def get_prompt(self, prompt: str | int) -> PromptOut:
        """One prompt (by id or name) with its active version summary and ``etag``."""
        return await self._send(ops.get_prompt(prompt))

    async def update_prompt(
        self,
        prompt: str | int,
        *,
        description: str | Unset = UNSET,
        tags: list[str] | Unset = UNSET,
        content: str | Unset = UNSET,
        model_config: dict[str, Any] | Unset = UNSET,
        max_versions: int | Unset | None = UNSET,
        if_match: str | None = None,
    ) -> PromptOut:
        """Edit metadata or the working copy. Pass ``if_match=prompt.etag`` to refuse the
        edit (`PreconditionFailed`) when someone changed the prompt since you read it.
        ``max_versions`` applies at once; ``max_versions=None`` removes the limit."""
        changes = ops.patch_body(
            description=description,
            tags=tags,
            content=content,
            model_config=model_config,
            max_versions=max_versions,
        )
        return await self._send(ops.update_prompt(prompt, changes, if_match=if_match))

    async def delete_prompt(
        self, prompt: str | int, *, if_match: str | None = None, force: bool = False
    ) -> None:
        """Soft delete: the prompt disappears but keeps its versions; `restore_prompt` undoes.
        A prompt other prompts include raises `StillIncluded` (409) unless ``force=True``."""
        await self._send(ops.delete_prompt(prompt, if_match=if_match, force=force))
        self.cache.clear(str(prompt))

    async def restore_prompt(self, prompt: str | int) -> PromptOut:
        return await self._send(ops.restore_prompt(prompt))

    async def purge_prompt(self, prompt: str | int) -> None:
        """Hard delete of a soft-deleted prompt, with all its versions and events."""
        await self._send(ops.purge_prompt(prompt))

    async def list_events(
        self, prompt: str | int, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[EventOut]:
        """The prompt's timeline, newest first."""
        return await self._send(ops.list_events(prompt, limit=limit, cursor=cursor))

    def iter_events(self, prompt: str | int) -> AsyncIterator[EventOut]:
        return self._items(lambda cursor: ops.list_events(prompt, limit=200, cursor=cursor))

    # --- versions -------------------------------------------------------------------------

    async def create_version(
        self,
        prompt: str | int,
        content: str | None = None,
        *,
        model_config: dict[str, Any] | None = None,
        version_name: str | None = None,
        description: str | None = None,
        activate: bool = False,
        idempotency_key: str | None = None,
        messages: list[dict[str, Any]] | None = None,
        template_format: str | None = None,
        if_changed: bool = False,
        contract: dict[str, Any] | None = None,
    ) -> VersionOut:
        """Snapshot ``content`` (default: the working copy) as a new, immutable version. The
        active version stays unless ``activate=True``. ``messages`` makes a chat version;
        ``template_format="jinja"`` opts into sandboxed sections; ``if_changed=True`` returns
        the latest version instead when nothing changed; ``contract``: the version's contract
        (issue 23), sent as given."""
        return await self._send(
            ops.create_version(
                prompt,
                content=content,
                model_config=model_config,
                version_name=version_name,
                description=description,
                activate=activate,
                idempotency_key=idempotency_key,
                messages=messages,
                template_format=template_format,
                if_changed=if_changed,
                contract=contract,
            )
        )

    async def render(
        self, prompt: str | int, variables: dict[str, Any], *, version: int | str | None = None
    ) -> RenderOut:
        """Render on the server (includes resolved there): the active version, or
        ``version`` (a number, label or version name). To render with no request, use
        ``(await get_active(prompt)).render(**variables)``."""
        out = await self._send(ops.render(prompt, variables, version=version))
        label = "active" if version is None else None
        otel.annotate(out.prompt_name, out.version.id, label=label)
        return out

    async def run(
        self,
        prompt: str | int,
        variables: dict[str, Any] | None = None,
        *,
        provider: str,
        model: str | None = None,
        version: int | str | None = None,
        draft: dict[str, Any] | None = None,
        timeout: float = 300.0,
    ) -> RunOut:
        """Run a version once on a provider the server has configured (``version``: an id or
        a version name; neither it nor ``draft``: the active version), or an unsaved
        ``draft`` (``{"content"|"messages", "model_config", "contract",
        "template_format"}``). The answer's output, tool calls, latency, usage and cost;
        ProviderUnavailable/ProviderTimeout when the provider fails. Never retried: a run
        costs money. ``timeout``: seconds to wait for the whole answer."""
        version_id = None if version is None else await self._version_id(prompt, version)
        return await self._send(
            ops.run(
                prompt,
                variables or {},
                provider=provider,
                model=model,
                version_id=version_id,
                draft=draft,
                timeout=timeout,
            )
        )

    async def diff_versions(
        self, prompt: str | int, version: int | str, against: int | str, *, context: int = 3
    ) -> VersionDiffOut:
        """What changed from ``against`` to ``version`` (each an id or a version name): the
        text diff (``context`` lines around each change), the model config's changes, the
        contract's, each breaking or compatible, and ``breaking`` overall."""
        new = await self._version_id(prompt, version)
        old = await self._version_id(prompt, against)
        return await self._send(ops.diff_versions(prompt, new, old, context=context))

    async def dependencies(self, prompt: str | int, version: int | str) -> list[IncludeOut]:
        """What a version includes."""
        version_id = await self._version_id(prompt, version)
        return await self._send(ops.includes(prompt, version_id, "dependencies"))

    async def dependents(self, prompt: str | int, version: int | str) -> list[IncludeOut]:
        """Unpurged versions that include this version."""
        version_id = await self._version_id(prompt, version)
        return await self._send(ops.includes(prompt, version_id, "dependents"))

    def iter_versions(
        self, prompt: str | int, *, archived: bool | None = None
    ) -> AsyncIterator[VersionSummaryOut]:
        return self._items(
            lambda cursor: ops.list_versions(
                prompt, limit=200, cursor=cursor, name=None, archived=archived
            )
        )

    async def rollback(
        self,
        prompt: str | int,
        version: int | str,
        *,
        if_match: str | None = None,
        label: str | None = None,
    ) -> RollbackOut:
        """Make ``version`` (id or name) the active one, or with ``label`` point that label
        at it (``if_match`` is then the label's ETag). A no-op when it already is."""
        version_id = await self._version_id(prompt, version)
        return await self._send(ops.rollback(prompt, version_id, if_match=if_match, label=label))

    async def archive_version(self, prompt: str | int, version: int | str) -> VersionOut:
        """Archive ``version`` (id or name) by hand: it stays in history with its content,
        restorable. A no-op on an archived version; the active one raises
        `ActiveVersionProtected`."""
        version_id = await self._version_id(prompt, version)
        return await self._send(ops.archive_version(prompt, version_id))

    async def restore_version(self, prompt: str | int, version: int | str) -> VersionOut:
        """Bring an archived ``version`` (id or name) back, with its exact content; over
        ``max_versions``, the oldest other versions are archived instead. A no-op when it is
        not archived; a purged version raises `VersionUnavailable`."""
        version_id = await self._version_id(prompt, version)
        return await self._send(ops.restore_version(prompt, version_id))

    async def purge_version(
        self, prompt: str | int, version: int | str, *, reason: str
    ) -> VersionOut:
        """Destroy ``version``'s (id or name) content for good, keeping a tombstone with who,
        when and ``reason`` (required). Returns the tombstone. The active version raises
        `ActiveVersionProtected`; purging a tombstone again is a no-op."""
        version_id = await self._version_id(prompt, version)
        return await self._send(ops.purge_version(prompt, version_id, reason=reason))

    async def get_storage(self, prompt: str | int) -> StorageOut:
        """How much the prompt's history takes: versions, archived, purged, distinct
        contents, raw and stored bytes."""
        return await self._send(ops.get_storage(prompt))
