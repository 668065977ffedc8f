"""The outcome queue behind ``prompt.report(...)``: bounded, thread-safe, never raising.

`Client` and `AsyncClient` (client/aio.py, one source) send what it holds in batches from
the background; the caller only ever appends. A full queue drops the new outcome and counts
it; an outcome the wire schema refuses is counted and logged, never raised."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from promptdeck import limits
from promptdeck.schemas import OutcomeIn

log = logging.getLogger("promptdeck.client")


@dataclass(slots=True)
class OutcomeStats:
    """Counters of the reporting queue (a metric for the application to export)."""

    queued: int = 0  # accepted into the queue
    sent: int = 0  # acknowledged by the server
    dropped: int = 0  # refused because the queue was full
    invalid: int = 0  # refused by the schema (a score above 1, an unknown field…)
    failed: int = 0  # in batches the server refused or could not be reached for

    @property
    def lost(self) -> int:
        return self.dropped + self.invalid + self.failed


class OutcomeQueue:
    def __init__(self, max_size: int = 10_000, batch_size: int = 500) -> None:
        self.max_size = max_size
        self.batch_size = min(batch_size, limits.OUTCOMES_BATCH_MAX)
        self.stats = OutcomeStats()
        self._items: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.in_flight = 0  # outcomes taken and not yet done (being sent)

    def put(self, prompt: str | int, version_id: int, measures: dict[str, Any]) -> bool:
        """Queue one outcome, stamped now; False (counted) when refused. Never raises."""
        try:
            item = OutcomeIn(
                prompt_id=prompt,
                version_id=version_id,
                at=measures.pop("at", None) or datetime.now(UTC),
                **measures,
            ).model_dump(mode="json", exclude_none=True)
            if not item.get("tags"):
                item.pop("tags", None)
        except (ValidationError, TypeError, ValueError) as exc:
            with self._lock:
                self.stats.invalid += 1
            log.warning("promptdeck: outcome not reported: %s", exc)
            return False
        with self._lock:
            if len(self._items) >= self.max_size:
                self.stats.dropped += 1
                return False
            self._items.append(item)
            self.stats.queued += 1
        return True

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            batch = self._items[: self.batch_size]
            del self._items[: self.batch_size]
            self.in_flight += len(batch)
        return batch

    def done(self, batch: list[dict[str, Any]], ok: bool) -> None:
        with self._lock:
            self.in_flight -= len(batch)
            if ok:
                self.stats.sent += len(batch)
            else:
                self.stats.failed += len(batch)

    def __len__(self) -> int:
        return len(self._items)
