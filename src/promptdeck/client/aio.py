"""`AsyncClient`: the Python client for asyncio code.

This package's async modules are the source of `Client` too: scripts/unasync.py writes
sync.py from this file and _sync/ from _async/ (and the test command fails when they are out
of date). Edit these, then run the script.

The class is the hot path (`get_active`, its cache, includes, ``subscribe=``) and the
plumbing; its other methods come from one mixin per concern in _async/: prompts and
versions, labels and deploys, outcomes and impact, export and import, administration,
test sets and evaluations.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from promptdeck import limits
from promptdeck.client import _ops as ops
from promptdeck.client._async.admin import AsyncAdminMethods
from promptdeck.client._async.changes import AsyncChanges
from promptdeck.client._async.evaluations import AsyncEvaluationMethods
from promptdeck.client._async.labels import AsyncLabelMethods
from promptdeck.client._async.outcomes import AsyncOutcomeMethods, AsyncReporter
from promptdeck.client._async.prompts import AsyncPromptMethods
from promptdeck.client._async.rollouts import AsyncRolloutMethods
from promptdeck.client._async.transfer import AsyncTransferMethods
from promptdeck.client._changes import ChangesState
from promptdeck.client._flight import AsyncSingleFlight
from promptdeck.client._http import DEFAULT_URL, RetryPolicy, headers
from promptdeck.client._outcomes import OutcomeQueue
from promptdeck.client.cache import ActiveCache, ActivePrompt, CacheStats, Pinned, PinnedCache
from promptdeck.domain import templates
from promptdeck.domain.rollouts import assign
from promptdeck.domain.templates import IncludeRef
from promptdeck.errors import PromptdeckError, TemplateInvalid
from promptdeck.schemas import MoveOut


def _names(prompts: Iterable[str]) -> Iterable[str]:
    return [prompts] if isinstance(prompts, str) else prompts


class AsyncClient(
    AsyncPromptMethods,
    AsyncLabelMethods,
    AsyncRolloutMethods,
    AsyncOutcomeMethods,
    AsyncTransferMethods,
    AsyncAdminMethods,
    AsyncEvaluationMethods,
):
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
    the TTL applies while the stream is down, and `aclose` stops it. ``on_move`` is called
    with each pushed move (`MoveOut`), after the cache has forgotten it; it must not block.
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
        on_move: Callable[[MoveOut], None] | None = None,
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
            state = ChangesState(self.cache, prompts=names or None, on_move=on_move)
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

    def follow_changes(self) -> None:
        """Start following GET /changes now (with ``subscribe=``), not at the first
        `get_active`."""
        if self.changes is not None:
            self.changes.start()

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
        found = await self._with_includes(
            await self._active(prompt, label, fallback, fallback_model_config, key), key
        )
        found.annotate()
        return found

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
        return self.cache.store(key, value, etag, since=since, split=split, sent=sent)

    # --- the server ---------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return await self._send(ops.health())
