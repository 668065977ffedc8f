"""`AsyncClient`: the Python client for asyncio code.

This file is the source of `Client` too: scripts/unasync.py writes sync.py from it (and the
test command fails when sync.py is out of date). Edit this file, then run the script.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

import httpx

from promptdeck import limits
from promptdeck.client import _ops as ops
from promptdeck.client import rollouts as rollout_calls
from promptdeck.client import webhooks as webhook_calls
from promptdeck.client._background import AsyncBackground
from promptdeck.client._changes import READ_TIMEOUT_S, ChangesState, SseParser
from promptdeck.client._flight import AsyncSingleFlight
from promptdeck.client._http import (
    DEFAULT_URL,
    Call,
    RetryPolicy,
    headers,
    result,
    should_retry,
    transport_error,
)
from promptdeck.client._ops import UNSET, Unset
from promptdeck.client._outcomes import OutcomeQueue, OutcomeStats
from promptdeck.client.cache import ActiveCache, ActivePrompt, CacheStats, Pinned, PinnedCache
from promptdeck.client.versions import version_ref
from promptdeck.domain import templates
from promptdeck.domain.rollouts import assign
from promptdeck.domain.templates import IncludeRef
from promptdeck.errors import PromptdeckError, TemplateInvalid, VersionNotFound
from promptdeck.schemas import (
    AlertOut,
    DeliveryOut,
    DeployOut,
    EventOut,
    ImpactOut,
    ImportOut,
    IncludeOut,
    LabelMoveOut,
    LabelOut,
    MovedOut,
    Page,
    PromptOut,
    PromptRecord,
    RawOutcomeOut,
    RawOutcomesOut,
    RenderOut,
    RollbackOut,
    RolloutOut,
    StorageOut,
    VersionOut,
    VersionSummaryOut,
    WebhookCreated,
    WebhookOut,
)

T = TypeVar("T")
log = logging.getLogger("promptdeck.client")


class AsyncChanges:
    """Follows GET /changes in the background and expires the cache entries that moved.

    Reconnects after ``retry`` (1 s) with ``Last-Event-ID`` when the stream drops, so no move
    is missed; never raises (failures are logged on the ``promptdeck.client`` logger).
    """

    def __init__(self, http: httpx.AsyncClient, state: ChangesState, timeout: float) -> None:
        self.http = http
        self.state = state
        self.timeout = httpx.Timeout(timeout, read=READ_TIMEOUT_S)
        self.worker = AsyncBackground()

    def start(self) -> None:
        self.worker.start(self._run)

    async def stop(self) -> None:
        await self.worker.stop()

    async def _run(self) -> None:
        while not self.worker.stopping:
            error: BaseException | None = None
            try:
                await self._follow()
            except Exception as exc:  # the caller must never see it: logged, then retried
                error = exc
            finally:
                self.worker.reading(None)
            if self.worker.stopping:
                return
            await self.worker.sleep(self.state.dropped(error))

    async def _follow(self) -> None:
        params, headers = self.state.request()
        async with self.http.stream(
            "GET", "/changes", params=params, headers=headers, timeout=self.timeout
        ) as response:
            self.worker.reading(response)
            if not self.state.opened(response):
                return
            parser = SseParser()
            async for line in response.aiter_lines():
                for event in parser.feed(line):
                    self.state.on(event)
                if parser.retry_s is not None:
                    self.state.retry_s = parser.retry_s


class AsyncReporter:
    """Sends what ``prompt.report`` queued, in batches, from the background: one POST
    /outcomes per batch, a pause of ``interval`` when the queue is empty. Never raises into
    the caller: a batch that fails is counted (``failed``) and logged. ``aclose`` lets the
    loop drain the queue and end (at most ``timeout`` s), then sends what is left."""

    def __init__(
        self, client: AsyncClient, queue: OutcomeQueue, interval: float, timeout: float
    ) -> None:
        self.client = client
        self.queue = queue
        self.interval = interval
        self.timeout = timeout
        self.worker = AsyncBackground("promptdeck-outcomes")
        self.started = False

    def start(self) -> None:
        if self.started:
            return
        try:
            self.worker.start(self._run)
        except RuntimeError:  # no running event loop here: the next call from one starts it
            return
        self.started = True
        self.worker.on_exit(self.aclose)

    async def _run(self) -> None:
        while True:
            if not await self.send_one():
                if self.worker.stopping:
                    return
                await self.worker.sleep(self.interval)

    async def send_one(self) -> bool:
        """Send one batch; False when the queue was empty."""
        batch = self.queue.take()
        if not batch:
            return False
        try:
            await self.client._send(ops.report_outcomes(batch, timeout=self.timeout))
        except Exception as exc:  # the caller must never see it: counted and logged
            self.queue.done(batch, ok=False)
            log.warning("promptdeck: %d outcomes not reported: %s", len(batch), exc)
        else:
            self.queue.done(batch, ok=True)
        return True

    async def aclose(self) -> None:
        await self.worker.finish(self.timeout)
        while await self.send_one():
            pass


def _names(prompts: Iterable[str]) -> Iterable[str]:
    return [prompts] if isinstance(prompts, str) else prompts


class AsyncClient:
    """A promptdeck server, from Python.

    >>> async with promptdeck.AsyncClient("http://127.0.0.1:8000") as client:
    ...     prompt = await client.get_active("support-reply", fallback="You are helpful.")
    ...     prompt.content  # served from an in-process cache, revalidated with the server

    Every method raises the server's error as the matching `promptdeck.errors` class
    (`PromptNotFound`, `VersionNameTaken`, `PreconditionFailed`…) with the problem's
    ``status``, ``title``, ``detail`` and ``field``; a server that cannot be reached raises
    `ConnectionFailed` and a 5xx `ServerError`, after ``retries`` retries with backoff.
    Share one client among the tasks of one event loop.

    ``subscribe=True`` (or a list of prompt names) follows GET /changes in the background
    from the first `get_active`: each pushed move expires that prompt's cached copy at once,
    the TTL applies while the stream is down, and `aclose` stops it.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        actor: str | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.1,
        cache_ttl: float = 10.0,
        retry_after: float = 5.0,
        active_timeout: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: dict[str, list[Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        subscribe: bool | Iterable[str] = False,
        outcome_queue_size: int = 10_000,
        outcome_batch_size: int = 500,
        outcome_interval: float = 1.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.retry = RetryPolicy(retries=retries, backoff=backoff)
        # ``clock``: seconds from any fixed point, for the cache's TTLs (tests move one by hand).
        self.cache = ActiveCache(ttl=cache_ttl, retry_after=retry_after, clock=clock)
        self.pinned = PinnedCache()  # versions that includes pin: immutable, kept for good
        self.active_timeout = active_timeout
        self._flight: AsyncSingleFlight[ActivePrompt] = AsyncSingleFlight()
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=headers(api_key, actor),
            timeout=timeout,
            transport=transport,
            event_hooks=event_hooks,
        )
        # subscribe=True (every prompt) or prompt names: GET /changes, from the first get_active.
        self.changes: AsyncChanges | None = None
        if subscribe is not False:
            names = None if subscribe is True else frozenset(_names(subscribe))
            state = ChangesState(self.cache, prompts=names or None)
            self.changes = AsyncChanges(self._http, state, timeout)
        # prompt.report(...): a bounded queue, sent in batches from the background.
        self.outcomes = OutcomeQueue(outcome_queue_size, outcome_batch_size)
        self.reporter = AsyncReporter(self, self.outcomes, outcome_interval, timeout)
        self.cache.reporter = self._report

    # --- plumbing -------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Send the outcomes still queued, stop the background work, close connections."""
        await self.reporter.aclose()
        if self.changes is not None:
            await self.changes.stop()
        await self._http.aclose()

    async def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    headers=call.headers,
                    timeout=httpx.USE_CLIENT_DEFAULT if call.timeout is None else call.timeout,
                )
            except httpx.TransportError as exc:
                if attempt < self.retry.retries and should_retry(call, exc, None):
                    await asyncio.sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                raise transport_error(call, self.url, exc) from exc
            if attempt < self.retry.retries and should_retry(call, None, response):
                await asyncio.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            return result(call, response)

    async def _items(self, page_at: Callable[[str | None], Call[Page[T]]]) -> AsyncIterator[T]:
        """Every item of a list, page after page: ``page_at(cursor)`` asks for one page."""
        cursor: str | None = None
        while True:
            page = await self._send(page_at(cursor))
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    # --- the hot path ---------------------------------------------------------------------

    @property
    def stats(self) -> CacheStats:
        return self.cache.stats

    async def get_active(
        self,
        prompt: str | int,
        *,
        fallback: str | None = None,
        fallback_model_config: dict[str, Any] | None = None,
        label: str | None = None,
        key: str | None = None,
    ) -> ActivePrompt:
        """The prompt's active version (or the one ``label`` serves: ``production``,
        ``staging``…), for production use; each label is cached on its own.

        ``key``: the caller's sticky key (a user id, a session id). While the label is in a
        rollout (docs/rollouts.md) it picks the baseline or the candidate, here, from the
        cached split: the same version the server gives that key, with no request once
        both versions are cached. Without a key, each call draws an arm.

        Served from the in-process cache while younger than ``cache_ttl``; then revalidated
        with ``If-None-Match`` (a 304 renews it without a body). When the server is down,
        slow or failing, the last good copy is served and a warning logged; with no copy,
        ``fallback`` (if given) is served as content. Each try waits at most
        ``active_timeout`` seconds. Only one request per prompt is in flight however many
        tasks miss at once; the others get the stale copy meanwhile, if there is one. A
        deleted prompt raises `PromptNotFound`.

        With ``subscribe=``, a move pushed by the server (a rollout's change too) expires the
        prompt's copy at once, so the next call asks the server, whatever the TTL.

        >>> prompt = await client.get_active("support-reply", label="production", key=user.id)
        """
        return await self._with_includes(
            await self._active(prompt, label, fallback, fallback_model_config, key), key
        )

    async def _active(
        self,
        prompt: str | int,
        label: str | None = None,
        fallback: str | None = None,
        fallback_model_config: dict[str, Any] | None = None,
        who: str | None = None,
    ) -> ActivePrompt:
        """`get_active` without its includes resolved: the cache, else one request."""
        if who is not None:
            assign.check_key(who)  # refused here as the server would, rollout or not
        if self.changes is not None:
            self.changes.start()  # once; the stream then runs in the background
        label = None if label == "active" else label
        key = str(prompt) if label is None else f"{prompt}?label={label}"
        hit = self.cache.fresh(key, who)
        if hit is not None:
            return hit
        # Someone already asking for the same version? Serve the last copy now if there is
        # one, else wait.
        return await self._flight.run(
            self.cache.flight(key, who),
            lambda: self._refresh(key, str(prompt), label, fallback, fallback_model_config, who),
            lambda: self.cache.stale(key, who),
        )

    async def _with_includes(self, top: ActivePrompt, who: str | None = None) -> ActivePrompt:
        """``top`` with the texts of its ``{{> includes}}`` (transitively), so that its
        ``render`` needs no request: an include by label (or of the active version) through
        the same cache as `get_active` (TTL, 304, pushed moves, stale-if-error); one pinned
        to a version number or version name is immutable, fetched once and kept for good.
        An include that cannot be resolved now leaves the copy without them: its ``render``
        then says why, the fetch itself does not fail."""
        if not top.include_refs or top.source == "fallback":
            return top
        texts: dict[IncludeRef, str] = {}
        pending = [(top.prompt_name, top.version_id, top.include_refs)]
        try:
            while pending:
                name, version_id, refs = pending.pop()
                for ref in refs:
                    if ref in texts:
                        continue
                    if len(texts) >= limits.INCLUDES_MAX:
                        raise TemplateInvalid(f"more than {limits.INCLUDES_MAX} includes")
                    included = await self._include(name, version_id, ref, who)
                    if included.kind != "text":
                        raise TemplateInvalid(f"{{{{> {ref}}}}}: only text prompts can be included")
                    if included.content is None:
                        raise TemplateInvalid(f"{{{{> {ref}}}}}: that version was purged")
                    texts[ref] = included.content
                    nested = templates.includes("text", included.content)
                    if nested:
                        pending.append((included.prompt_name, included.version_id, nested))
        except PromptdeckError as exc:
            return top.with_includes(None, str(exc))
        return top.with_includes(texts)

    async def _include(
        self, prompt: str, version_id: int, ref: IncludeRef, who: str | None
    ) -> Pinned:
        """What ``ref``, written in version ``version_id`` of ``prompt``, names now (for a
        caller with key ``who``: an included label in a rollout splits by it too)."""
        if ref.at is not None:
            targets = self.pinned.targets.get(version_id)
            if targets is None:  # the version's pinned targets, resolved at its creation
                edges = await self._send(ops.includes(prompt, version_id, "dependencies"))
                targets = {}
                for edge in edges:
                    for name in (edge.target_prompt_name, str(edge.target_prompt_id)):
                        targets[(name, edge.at or "active")] = edge.target_version_id
                self.pinned.put_targets(version_id, targets)
            target = targets.get((ref.prompt, ref.at))
            if target is not None:
                found = self.pinned.versions.get(target)
                if found is None:
                    version = await self._send(ops.get_version(ref.prompt, target))
                    found = Pinned(ref.prompt, version.id, version.kind, version.content)
                    self.pinned.put_version(found)
                return found
            if ref.number is not None:
                raise TemplateInvalid(f"{{{{> {ref}}}}}: {ref.prompt!r} has no version {ref.at}")
        active = await self._active(ref.prompt, ref.label, who=who)
        return Pinned(active.prompt_name, active.version_id, active.kind, active.content)

    async def render_active(
        self, prompt: str | int, variables: dict[str, Any]
    ) -> str | list[dict[str, Any]]:
        """``(await get_active(prompt)).render(**variables)``: rendered here from the cache,
        includes too (see `get_active`), with no request while the copies are fresh."""
        return (await self.get_active(prompt)).render(**variables)

    async def _refresh(
        self,
        key: str,
        prompt: str,
        label: str | None,
        fallback: str | None,
        fallback_model_config: dict[str, Any] | None,
        who: str | None = None,
    ) -> ActivePrompt:
        hit = self.cache.fresh(key, who)  # another caller may have just refreshed it
        if hit is not None:
            return hit
        cold = self.cache.cold_fallback(key, fallback, model_config=fallback_model_config)
        if cold is not None:
            return cold
        since = self.cache.pushes  # a move pushed during the request: its answer is not fresh
        etag, sent = self.cache.sent(key, who)
        try:
            value, etag, split = await self._send(
                ops.fetch_active(
                    prompt, etag=etag, timeout=self.active_timeout, label=label, key=who
                )
            )
        except PromptdeckError as exc:
            return self.cache.failed(key, exc, fallback, who, model_config=fallback_model_config)
        return self.cache.store(
            key, value, etag, since=since, split=split, sent=sent, label=label or "active"
        )

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
    ) -> PromptOut:
        """Create a prompt and its first version (active). Retries are safe: each call sends
        an ``Idempotency-Key`` (a fresh one unless given). ``max_versions``: keep at most this
        many versions unarchived (default: the server's ``PROMPTDECK_DEFAULT_MAX_VERSIONS``).
        ``messages``: the first version is a chat one."""
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
    ) -> VersionOut:
        """Snapshot ``content`` (default: the working copy) as a new, immutable version. The
        active version stays unless ``activate=True``. ``messages`` makes a chat version;
        ``template_format="jinja"`` opts into sandboxed sections; ``if_changed=True`` returns
        the latest version instead when nothing changed."""
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
            )
        )

    async def render(
        self, prompt: str | int, variables: dict[str, Any], *, version: int | str | None = None
    ) -> RenderOut:
        """Render on the server (includes resolved there): the active version, or
        ``version`` (a number, label or version name). To render with no request, use
        ``(await get_active(prompt)).render(**variables)``."""
        return await self._send(ops.render(prompt, variables, version=version))

    async def dependencies(self, prompt: str | int, version: int | str) -> list[IncludeOut]:
        """What a version includes."""
        version_id = await self._version_id(prompt, version)
        return await self._send(ops.includes(prompt, version_id, "dependencies"))

    async def dependents(self, prompt: str | int, version: int | str) -> list[IncludeOut]:
        """Unpurged versions that include this version."""
        version_id = await self._version_id(prompt, version)
        return await self._send(ops.includes(prompt, version_id, "dependents"))

    async def list_versions(
        self,
        prompt: str | int,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        name: str | None = None,
        archived: bool | None = None,
    ) -> Page[VersionSummaryOut]:
        """Version history, newest first. ``archived=True``: only archived versions (purged
        tombstones included); ``False``: only unarchived ones; ``None``: all, each marked."""
        return await self._send(
            ops.list_versions(prompt, limit=limit, cursor=cursor, name=name, archived=archived)
        )

    def iter_versions(
        self, prompt: str | int, *, archived: bool | None = None
    ) -> AsyncIterator[VersionSummaryOut]:
        return self._items(
            lambda cursor: ops.list_versions(
                prompt, limit=200, cursor=cursor, name=None, archived=archived
            )
        )

    async def get_version(self, prompt: str | int, version: int | str) -> VersionOut:
        """One version in full, by id, or by version name (a string that is not all digits;
        an all-digit string is tried as an id, then as a name)."""
        as_id, name = version_ref(version)
        if as_id is not None:
            try:
                return await self._send(ops.get_version(prompt, as_id))
            except VersionNotFound:
                if name is None:
                    raise
        assert name is not None
        page = await self.list_versions(prompt, name=name)
        if not page.items:
            raise VersionNotFound(f"prompt {prompt!r} has no version {name!r}", status=404)
        return await self._send(ops.get_version(prompt, page.items[0].id))

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

    # --- labels and deploy requests -------------------------------------------------------

    async def list_labels(self, prompt: str | int) -> list[LabelOut]:
        """The prompt's labels, ``active`` first, each with its version and ETag."""
        return await self._send(ops.list_labels(prompt))

    async def get_label(self, prompt: str | int, label: str) -> LabelOut:
        return await self._send(ops.get_label(prompt, label))

    async def move_label(
        self,
        prompt: str | int,
        label: str,
        version: int | str,
        *,
        reason: str | None = None,
        if_match: str | None = None,
    ) -> MovedOut:
        """Point ``label`` at ``version`` (id or name); ``if_match`` (the label's ``etag``)
        makes it a compare-and-swap: `PreconditionFailed` if the label moved meanwhile."""
        version_id = await self._version_id(prompt, version)
        return await self._send(
            ops.move_label(prompt, label, version_id, reason=reason, if_match=if_match)
        )

    async def remove_label(
        self,
        prompt: str | int,
        label: str,
        *,
        reason: str | None = None,
        if_match: str | None = None,
    ) -> None:
        await self._send(ops.remove_label(prompt, label, reason=reason, if_match=if_match))

    async def protect_label(
        self, prompt: str | int, label: str, protected: bool = True
    ) -> LabelOut:
        return await self._send(ops.protect_label(prompt, label, protected))

    async def revert_label(
        self, prompt: str | int, label: str, *, if_match: str | None = None
    ) -> MovedOut:
        """Undo the label's last move (itself recorded as a move)."""
        return await self._send(ops.revert_label(prompt, label, if_match=if_match))

    async def label_history(
        self,
        prompt: str | int,
        label: str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[LabelMoveOut]:
        """One label's moves, newest first; ``label`` None: every label's (the deploys)."""
        return await self._send(ops.label_history(prompt, label, limit=limit, cursor=cursor))

    async def propose_deploy(
        self,
        prompt: str | int,
        label: str,
        version: int | str,
        *,
        reason: str,
        plan: dict[str, Any] | None = None,
    ) -> DeployOut:
        """Ask for ``label`` to move to ``version``; the answer carries the diff. With a
        rollout ``plan`` (docs/rollouts.md), approving starts that rollout instead."""
        version_id = await self._version_id(prompt, version)
        return await self._send(
            ops.propose_deploy(prompt, label, version_id, reason=reason, plan=plan)
        )

    async def get_deploy(self, prompt: str | int, request_id: int) -> DeployOut:
        return await self._send(ops.get_deploy(prompt, request_id))

    async def list_deploys(
        self,
        prompt: str | int,
        *,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[DeployOut]:
        return await self._send(ops.list_deploys(prompt, status=status, limit=limit, cursor=cursor))

    async def approve_deploy(
        self, prompt: str | int, request_id: int, *, reason: str | None = None
    ) -> DeployOut:
        """Approve: the label moves at once (admin; not the proposer)."""
        return await self._send(ops.decide_deploy(prompt, request_id, approve=True, reason=reason))

    async def reject_deploy(
        self, prompt: str | int, request_id: int, *, reason: str | None = None
    ) -> DeployOut:
        return await self._send(ops.decide_deploy(prompt, request_id, approve=False, reason=reason))

    async def _version_id(self, prompt: str | int, version: int | str) -> int:
        if isinstance(version, int):
            return version
        found = await self.get_version(prompt, version)
        return found.id

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

    # --- outcomes and impact --------------------------------------------------------------

    def _report(self, prompt: str | int, version_id: int, measures: dict[str, Any]) -> bool:
        queued = self.outcomes.put(prompt, version_id, measures)
        if queued:
            self.reporter.start()
        return queued

    def report(self, prompt: str | int, version_id: int, **measures: Any) -> bool:
        """Report a call of a version (as ``prompt.report`` does for what `get_active`
        returned): ``success``, ``score`` (0..1), ``latency_ms``, ``input_tokens``,
        ``output_tokens``, ``cost``, ``feedback`` (+1/-1), ``tags``, ``at``. Queued and sent
        in the background; never blocks or raises; False when not queued."""
        return self._report(prompt, version_id, dict(measures))

    @property
    def outcome_stats(self) -> OutcomeStats:
        """Outcomes queued, sent, dropped (queue full), invalid and failed."""
        return self.outcomes.stats

    async def flush_outcomes(self) -> None:
        """Send every queued outcome now, and wait (at most ``timeout``) for a batch the
        background sender is sending: afterwards the server has counted every outcome reported
        before the call (or ``outcome_stats`` counts it failed)."""
        while await self.reporter.send_one():
            pass
        deadline = time.monotonic() + self.reporter.timeout
        while self.outcomes.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    async def impact(
        self,
        prompt: str | int,
        *,
        since: str | None = None,
        until: str | None = None,
        label: str | None = None,
        compare: tuple[int, int] | None = None,
    ) -> ImpactOut:
        """Per version and label period: count, success rate and mean score with 95%
        intervals, latency, tokens, cost; ``compare=(a, b)``: is B better than A?"""
        return await self._send(
            ops.impact(prompt, since=since, until=until, label=label, compare=compare)
        )

    async def set_alert(
        self,
        prompt: str | int,
        label: str,
        *,
        min_success: float,
        window_minutes: int = 15,
        min_count: int = 20,
    ) -> AlertOut:
        """Raise an ``impact.alert`` event when success after a move of ``label`` falls
        below ``min_success`` within ``window_minutes`` (once ``min_count`` outcomes say)."""
        return await self._send(
            ops.set_alert(
                prompt,
                label,
                min_success=min_success,
                window_minutes=window_minutes,
                min_count=min_count,
            )
        )

    async def list_outcomes(
        self,
        prompt: str | int,
        *,
        version_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RawOutcomesOut:
        """A page of the prompt's kept raw outcomes, newest first (``since`` inclusive,
        ``until`` exclusive, ISO 8601); ``kept`` and ``days`` say whether the server keeps
        them and for how long."""
        return await self._send(
            ops.list_outcomes(
                prompt,
                version_id=version_id,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
            )
        )

    def iter_outcomes(
        self,
        prompt: str | int,
        *,
        version_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> AsyncIterator[RawOutcomeOut]:
        """Every kept raw outcome of the prompt (and filter), newest first, page after page."""
        return self._items(
            lambda cursor: ops.outcome_pages(
                prompt, version_id=version_id, since=since, until=until, cursor=cursor
            )
        )

    async def list_alerts(self, prompt: str | int) -> list[AlertOut]:
        return await self._send(ops.list_alerts(prompt))

    async def remove_alert(self, prompt: str | int, label: str) -> None:
        await self._send(ops.remove_alert(prompt, label))

    # --- rollouts (docs/rollouts.md) ---------------------------------------------------------

    async def start_rollout(
        self,
        prompt: str | int,
        label: str,
        version: int | str,
        *,
        steps: list[float] | None = None,
        guard: dict[str, Any] | None = None,
        sticky: str | None = None,
        step_after: dict[str, int] | None = None,
        advance: str | None = None,
        reason: str | None = None,
        salt: str | None = None,
        plan: dict[str, Any] | None = None,
    ) -> RolloutOut:
        """Roll ``version`` (an id, or a version name) out on ``label`` by ``steps`` of the
        callers, judged by ``guard`` (``{"measure": "success_rate", "max_drop": 0.02}``);
        the label's version now is the baseline. ``plan``: a whole plan as JSON
        (docs/rollouts.md) that the other keywords add to. 409 while the label runs one.

        >>> await client.start_rollout("support-reply", "production", 9, steps=[5, 25, 100],
        ...     guard={"measure": "success_rate", "max_drop": 0.02})
        """
        body: dict[str, Any] = dict(plan or {})
        body["version_id"] = await self._version_id(prompt, version)
        given = {"steps": steps, "guard": guard, "sticky": sticky, "step_after": step_after}
        given.update({"advance": advance, "reason": reason, "salt": salt})
        body.update({k: v for k, v in given.items() if v is not None})
        return await self._send(rollout_calls.start(prompt, label, body))

    async def rollout(self, prompt: str | int, label: str) -> RolloutOut:
        """The label's rollout (its newest, live or ended): share, arms, the guard's say."""
        return await self._send(rollout_calls.get(prompt, label))

    async def pause_rollout(
        self, prompt: str | int, label: str, *, reason: str | None = None
    ) -> RolloutOut:
        """Hold the share (the guard still rolls a worse candidate back)."""
        return await self._send(rollout_calls.control(prompt, label, "pause", reason))

    async def resume_rollout(
        self, prompt: str | int, label: str, *, reason: str | None = None
    ) -> RolloutOut:
        return await self._send(rollout_calls.control(prompt, label, "resume", reason))

    async def advance_rollout(
        self, prompt: str | int, label: str, *, reason: str | None = None
    ) -> RolloutOut:
        """The next share now; past the last below 100%, the label moves (completed)."""
        return await self._send(rollout_calls.control(prompt, label, "advance", reason))

    async def abort_rollout(
        self, prompt: str | int, label: str, *, reason: str | None = None
    ) -> RolloutOut:
        """Every caller back on the baseline; the label does not move."""
        return await self._send(rollout_calls.control(prompt, label, "abort", reason))

    async def list_rollouts(
        self, prompt: str | int, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[RolloutOut]:
        """The prompt's rollouts, every label's, newest first."""
        return await self._send(rollout_calls.listing(prompt, limit=limit, cursor=cursor))

    # --- export and import ----------------------------------------------------------------

    async def export_prompt(self, prompt: str | int) -> PromptRecord:
        """The prompt's whole history: every version in full, every event."""
        return await self._send(ops.export_prompt(prompt))

    async def export_prompts(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[PromptRecord]:
        """A page of every prompt's whole history, soft-deleted prompts included."""
        return await self._send(ops.export_prompts(limit=limit, cursor=cursor))

    def iter_export(self, *, page_size: int = 20) -> AsyncIterator[PromptRecord]:
        """Every prompt's whole history (a full backup), page after page."""
        return self._items(lambda cursor: ops.export_prompts(limit=page_size, cursor=cursor))

    async def import_prompt(self, record: PromptRecord | dict[str, Any]) -> ImportOut:
        """Write an exported history as it is; a no-op if an identical prompt exists."""
        return await self._send(ops.import_prompt(record))

    # --- webhooks (admin; docs/webhooks.md) -------------------------------------------------

    async def create_webhook(
        self,
        url: str,
        *,
        events: list[str] | None = None,
        prompt: str | int | None = None,
        secret: str | None = None,
        description: str | None = None,
        enabled: bool = True,
    ) -> WebhookCreated:
        """A new webhook (all events of every prompt unless ``events``/``prompt`` say
        less); the answer's ``secret`` is shown this once."""
        return await self._send(
            webhook_calls.create(
                url,
                events=events,
                prompt=prompt,
                secret=secret,
                description=description,
                enabled=enabled,
            )
        )

    async def list_webhooks(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[WebhookOut]:
        return await self._send(webhook_calls.listing(limit=limit, cursor=cursor))

    async def get_webhook(self, hook_id: int) -> WebhookOut:
        return await self._send(webhook_calls.get(hook_id))

    async def update_webhook(
        self,
        hook_id: int,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        secret: str | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookOut:
        """Change what is given; ``enabled=False`` pauses the hook."""
        changes = {
            k: v
            for k, v in (
                ("url", url),
                ("events", events),
                ("secret", secret),
                ("description", description),
                ("enabled", enabled),
            )
            if v is not None
        }
        return await self._send(webhook_calls.update(hook_id, changes))

    async def delete_webhook(self, hook_id: int) -> None:
        await self._send(webhook_calls.delete(hook_id))

    async def list_webhook_deliveries(
        self,
        hook_id: int,
        *,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[DeliveryOut]:
        """The hook's delivery log, newest first, each with its last attempt."""
        return await self._send(
            webhook_calls.deliveries(hook_id, status=status, limit=limit, cursor=cursor)
        )

    async def send_webhook_test(self, hook_id: int) -> DeliveryOut:
        """Queue a ``webhook.test`` delivery to the hook ("send a test")."""
        return await self._send(webhook_calls.send_test(hook_id))

    async def health(self) -> dict[str, Any]:
        return await self._send(ops.health())
