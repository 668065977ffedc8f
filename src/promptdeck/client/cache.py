"""The in-process cache behind `get_active`: TTL, 304 revalidation, stale-if-error, fallback.

The cache itself is plain data; `Client` and `AsyncClient` add the one-request-per-key
coordination (threads or tasks, `_flight.py`) around it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr

from promptdeck.client import _otel
from promptdeck.domain import templates
from promptdeck.domain.rollouts.split import Split
from promptdeck.domain.templates import IncludeRef
from promptdeck.errors import (
    ConnectionFailed,
    NotFound,
    PromptdeckError,
    ServerError,
    TemplateInvalid,
)
from promptdeck.schemas import ActiveOut

log = logging.getLogger("promptdeck.client")

Source = Literal["server", "cache", "revalidated", "stale", "fallback"]
# What ``ActivePrompt.report`` calls: (prompt id, version id, measures) -> queued or not.
Reporter = Callable[[int, int, dict[str, Any]], bool]

# Failures that stale-if-error covers: the server is down, slow or broken. A 404 is an
# answer, not a failure: it is raised (and the cached copy dropped).
UNAVAILABLE: tuple[type[PromptdeckError], ...] = (ConnectionFailed, ServerError)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ActivePrompt(ActiveOut):
    """The active version of a prompt, as `get_active` returns it (immutable).

    ``source`` says where it came from: ``server`` (just fetched), ``cache`` (fresh in the
    cache), ``revalidated`` (the server said 304), ``stale`` (the server failed; the last good
    copy) or ``fallback`` (no server and no copy: the ``fallback=`` content).
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, protected_namespaces=())

    source: Source = Field(default="server", exclude=True)
    # The texts of its {{> includes}} (transitively), resolved by the client when it handed
    # this copy out (`get_active`): `render` then needs no request.
    _includes: dict[IncludeRef, str] | None = PrivateAttr(default=None)
    _refs: list[IncludeRef] | None = PrivateAttr(default=None)
    _include_error: str | None = PrivateAttr(default=None)
    _reporter: Reporter | None = PrivateAttr(default=None)
    # The label it was asked by (``active`` by default) and, when a rollout chose it, the
    # arm (``baseline`` or ``candidate``): both go on the current span (docs/opentelemetry.md).
    # With an arm, its outcomes are tagged with the label, so the guard counts them for that
    # rollout only (docs/rollouts.md).
    _label: str = PrivateAttr(default="active")
    _arm: str | None = PrivateAttr(default=None)

    @property
    def text(self) -> str:
        return self.content

    def report(
        self,
        *,
        success: bool | None = None,
        score: float | None = None,
        latency_ms: float | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost: float | None = None,
        feedback: int | None = None,
        tags: dict[str, str] | None = None,
    ) -> bool:
        """Report how a call with this version went (POST /outcomes, in the background).

        Never blocks and never raises: the outcome is queued and sent in a batch; False when
        it was not queued (the queue is full, a value is out of range, or this is the
        ``fallback`` content, which has no version). ``client.outcome_stats`` counts all.

        >>> prompt.report(success=True, score=0.8, latency_ms=420, feedback=1)
        """
        measures = {
            "success": success,
            "score": score,
            "latency_ms": latency_ms,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cost": cost,
            "feedback": feedback,
            "tags": tags,
        }
        if self._arm is not None and "label" not in (tags or {}):
            measures["tags"] = {**(tags or {}), "label": self._label}
        measures = {k: v for k, v in measures.items() if v is not None}
        if self._reporter is None or self.source == "fallback":
            return False
        return self._reporter(self.prompt_id, self.version_id, measures)

    @property
    def include_refs(self) -> list[IncludeRef]:
        """The include tags of its content, in order (computed once per copy)."""
        if self._refs is None:
            has = "{{" in self.content
            self._refs = templates.includes(self.kind, self.content) if has else []
        return self._refs

    def with_includes(
        self, texts: dict[IncludeRef, str] | None, error: str | None = None
    ) -> ActivePrompt:
        """A copy that renders with these include texts, or that says why it cannot
        (``error``); the cached copy stays as it is."""
        copy = self.model_copy()
        copy._refs = self._refs
        copy._reporter = self._reporter
        copy._includes = texts
        copy._include_error = error
        copy._label = self._label
        copy._arm = self._arm
        return copy

    def annotate(self) -> None:
        """Name this prompt and version on the current OpenTelemetry span (a no-op without
        ``opentelemetry-api`` or a recording span); `get_active` and `render` call it."""
        if not _otel.enabled:
            return
        span = _otel.recording()
        if span is None:  # first: reading the private attributes costs pydantic ~5 µs
            return
        fallback = self.source == "fallback"
        _otel.annotate(
            self.prompt_name,
            None if fallback else self.version_id,
            label=self._label,
            arm=None if fallback else self._arm,
            span=span,
        )

    def rendered(self, variables: dict[str, Any]) -> templates.Rendered:
        self.annotate()
        if not self.include_refs:
            return super().rendered(variables)
        self.check_variables(variables)
        texts = self._includes
        if texts is None:
            why = self._include_error or "not fetched (not handed out by a client)"
            raise TemplateInvalid(
                f"{{{{> {self.include_refs[0]}}}}}: its includes could not be resolved "
                f"here ({why}): render it on the server (client.render)"
            )

        def resolve(ref: IncludeRef) -> str:
            if ref not in texts:
                raise TemplateInvalid(f"{{{{> {ref}}}}}: its text was not fetched")
            return texts[ref]

        return templates.render(
            self.kind,
            self.template_format,
            self.content,
            variables,
            resolve=resolve,
            path=(self.prompt_name,),
        )


def label_of(key: str) -> str:
    """The label of a cache key (``name`` or ``name?label=staging``; names hold no ``?``)."""
    return key.partition("?label=")[2] or "active"


@dataclass(frozen=True, slots=True)
class Pinned:
    """A version an include pins (by number or version name): immutable, so cached for good."""

    prompt_name: str
    version_id: int
    kind: str
    content: str | None


class PinnedCache:
    """Pinned include targets by version id, and each version's pinned targets by
    (prompt, at): both immutable once created, so never expired; bounded in entries."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self.versions: dict[int, Pinned] = {}
        self.targets: dict[int, dict[tuple[str, str], int | None]] = {}
        self._lock = threading.Lock()

    def put_version(self, pinned: Pinned) -> None:
        with self._lock:
            if len(self.versions) >= self.max_entries:
                self.versions.pop(next(iter(self.versions)))
            self.versions[pinned.version_id] = pinned

    def put_targets(self, version_id: int, targets: dict[tuple[str, str], int | None]) -> None:
        with self._lock:
            if len(self.targets) >= self.max_entries:
                self.targets.pop(next(iter(self.targets)))
            self.targets[version_id] = targets


@dataclass(slots=True)
class CacheStats:
    """Counters, for tests and metrics."""

    hits: int = 0
    fetched: int = 0  # 200 answers
    revalidated: int = 0  # 304 answers
    stale: int = 0  # served the last good copy after a failure
    fallbacks: int = 0
    pushed: int = 0  # entries expired by a move pushed on GET /changes (subscribe=)


@dataclass(slots=True)
class Served:
    """One version's copies (by source) and the server's ETag for them."""

    version_id: int
    etag: str | None  # sent back in If-None-Match
    copies: dict[str, ActivePrompt]
    arm: str | None = None  # baseline or candidate, under the split it was stored with


def _arm_of(split: Split | None, version_id: int) -> str | None:
    """Which arm of ``split`` serves this version (None: no rollout, or neither arm)."""
    if split is None:
        return None
    if version_id == split.candidate:
        return "candidate"
    return "baseline" if version_id == split.baseline else None


@dataclass(slots=True)
class Entry:
    """What a label (`active` or another) serves: its version, or during its rollout its
    ``split`` and the versions fetched so far (``arms``: the baseline's and the
    candidate's), from which each caller's key picks, here, with no request."""

    served: Served  # the last version fetched (stale-if-error's copy when the arm is unknown)
    fresh_until: float
    split: Split | None = None
    arms: dict[int, Served] = field(default_factory=dict)

    def pick(self, who: str | None) -> Served | None:
        """The copies for a caller with key ``who`` (None: not fetched yet)."""
        if self.split is None:
            return self.served
        return self.arms.get(self.split.pick(who))


@dataclass
class ActiveCache:
    ttl: float = 10.0
    # After a failure, callers get the stale copy (or fallback) for this long before the
    # next attempt, so a dead server costs one timeout per key per period, not one per call.
    retry_after: float = 5.0
    max_entries: int = 10_000
    stats: CacheStats = field(default_factory=CacheStats)
    entries: dict[str, Entry] = field(default_factory=dict)
    down_until: dict[str, float] = field(default_factory=dict)
    # Seconds from any fixed point; tests pass a clock they move by hand.
    clock: Callable[[], float] = time.monotonic
    # Push (subscribe=): ``pushes`` counts expiries; ``moved[key]`` is the count at the key's
    # last one, so a fetch that started before a move cannot store its answer as fresh.
    pushes: int = 0
    moved: dict[str, int] = field(default_factory=dict)
    moved_all: int = -1  # the count at the last expiry of every key
    # store() and expire() may run on two threads (the caller's, the subscriber's).
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Given to every copy, so ``prompt.report`` reaches its client's outcome queue.
    reporter: Reporter | None = None

    def _made(self, key: str, arm: str | None = None, **values: Any) -> ActivePrompt:
        made = ActivePrompt(**values)
        made._reporter = self.reporter
        made._label = label_of(key)
        made._arm = arm
        return made

    def _served(
        self, key: str, version_id: int, etag: str | None, data: dict[str, Any], arm: str | None
    ) -> Served:
        copies = {
            s: self._made(key, arm, **data, source=s)
            for s in ("server", "cache", "revalidated", "stale")
        }
        return Served(version_id, etag, copies, arm)

    def fresh(self, key: str, who: str | None = None) -> ActivePrompt | None:
        """The fresh copy for a caller with key ``who`` (it picks the arm of a rollout)."""
        entry = self.entries.get(key)
        if entry is not None and self.clock() < entry.fresh_until:
            served = entry.pick(who)
            if served is not None:
                self.stats.hits += 1
                return served.copies["cache"]
        return None

    def stale(self, key: str, who: str | None = None) -> ActivePrompt | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        return (entry.pick(who) or entry.served).copies["stale"]

    def sent(self, key: str, who: str | None = None) -> tuple[str | None, int | None]:
        """The ETag to send in If-None-Match for a caller with key ``who``, and the version
        it names (None, None: nothing cached to revalidate)."""
        entry = self.entries.get(key)
        served = entry.pick(who) if entry is not None else None
        return (served.etag, served.version_id) if served is not None else (None, None)

    def etag(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return entry.served.etag if entry is not None else None

    def flight(self, key: str, who: str | None) -> str:
        """Which fetches may be shared: those for the same version. During a rollout, keys
        on one arm share one; before the first answer, a key's own (it may be on either)."""
        entry = self.entries.get(key)
        if entry is None:
            return key if who is None else f"{key}\0{who}"
        if entry.split is None:
            return key
        return f"{key}@{entry.split.pick(who)}"

    def cold_fallback(self, key: str, fallback: str | None, **kw: Any) -> ActivePrompt | None:
        """The fallback, without asking, while a recent failure says the server is down."""
        if fallback is None or self.clock() >= self.down_until.get(key, 0.0):
            return None
        return self._fallback(key, fallback, **kw)

    def store(
        self,
        key: str,
        value: ActiveOut | None,
        etag: str | None,
        since: int | None = None,
        *,
        split: Split | None = None,
        sent: int | None = None,
    ) -> ActivePrompt:
        """Record a 200 (``value``) or a 304 (``value`` None: the version ``sent`` named)
        answer, with the label's ``split`` as the answer said, to a request sent when
        ``pushes`` was ``since``: if a pushed move expired the key meanwhile, the answer may
        predate the move, so it is kept but not fresh (the next call asks again)."""
        with self.lock:
            now = self.clock()
            fresh_until = now + self.ttl
            if since is not None and max(self.moved.get(key, -1), self.moved_all) > since:
                fresh_until = now
            self.down_until.pop(key, None)
            entry = self.entries.get(key)
            if value is None:
                served = None
                if entry is not None:
                    served = entry.arms.get(sent or 0) or (
                        entry.served if entry.served.version_id == sent else None
                    )
                if entry is None or served is None:  # cannot happen with our If-None-Match
                    raise ConnectionFailed(f"unexpected 304 for {key!r} with no cached copy")
                self.stats.revalidated += 1
                source = "revalidated"
                arm = _arm_of(split, served.version_id)
                if served.arm != arm:
                    # Cached before the rollout began (or under another): an ETag names only
                    # the version, so the 304's copies are remade with their arm under this split.
                    data = served.copies["cache"].model_dump()
                    served = self._served(key, served.version_id, served.etag, data, arm)
            else:
                arm = _arm_of(split, value.version_id)
                served = self._served(key, value.version_id, etag, value.model_dump(), arm)
                if entry is None:
                    if len(self.entries) >= self.max_entries:
                        self.entries.pop(next(iter(self.entries)))
                    entry = self.entries[key] = Entry(served, fresh_until)
                self.stats.fetched += 1
                source = "server"
            entry.served, entry.fresh_until, entry.split = served, fresh_until, split
            if split is None:
                entry.arms.clear()
            else:  # the two arms' copies, no others (a new rollout drops the last one's)
                keep = (split.baseline, split.candidate)
                entry.arms = {v: a for v, a in entry.arms.items() if v in keep}
                if served.version_id in keep:
                    entry.arms[served.version_id] = served
            return served.copies[source]

    def expire(self, keys: Iterable[str] | None = None) -> None:
        """A pushed move: the next `get_active` of these keys (None: of every key) asks the
        server (with ``If-None-Match``: a 304 if the version did not change after all). The
        copies stay, for stale-if-error while the server is down."""
        with self.lock:
            self.pushes += 1
            if keys is None:
                self.moved_all = self.pushes
            for key in list(self.entries) if keys is None else keys:
                entry = self.entries.get(key)
                if entry is not None:
                    entry.fresh_until = float("-inf")
                    self.stats.pushed += 1
                if keys is None:
                    continue
                # Only fetches in flight read it: a bounded dict, its oldest keys dropped.
                self.moved.pop(key, None)
                self.moved[key] = self.pushes
                if len(self.moved) > self.max_entries:
                    self.moved.pop(next(iter(self.moved)))

    def failed(
        self,
        key: str,
        exc: PromptdeckError,
        fallback: str | None,
        who: str | None = None,
        **kw: Any,
    ) -> ActivePrompt:
        """What to return when a fetch failed with ``exc`` (for a caller with key ``who``);
        raises when nothing can be."""
        if isinstance(exc, NotFound):
            self.entries.pop(key, None)
            raise exc
        if not isinstance(exc, UNAVAILABLE):
            raise exc
        now = self.clock()
        entry = self.entries.get(key)
        if entry is not None:
            entry.fresh_until = now + self.retry_after
            self.stats.stale += 1
            log.warning("promptdeck: serving the last good copy of %r: %s", key, exc.detail)
            return (entry.pick(who) or entry.served).copies["stale"]
        if fallback is not None:
            self.down_until[key] = now + self.retry_after
            log.warning("promptdeck: serving the fallback for %r: %s", key, exc.detail)
            return self._fallback(key, fallback, **kw)
        raise exc

    def _fallback(
        self, key: str, content: str, model_config: dict[str, Any] | None = None
    ) -> ActivePrompt:
        self.stats.fallbacks += 1
        return self._made(
            key,
            prompt_id=0,
            prompt_name=key.partition("?label=")[0],
            version_id=0,
            number=0,
            version_name="fallback",
            description="fallback content given to get_active",
            content=content,
            llm_config=model_config or {},
            content_hash="",
            created_at=EPOCH,
            created_by="",
            source="fallback",
        )

    def clear(self, key: str | None = None) -> None:
        if key is None:
            self.entries.clear()
            self.down_until.clear()
        else:
            self.entries.pop(key, None)
            self.down_until.pop(key, None)
