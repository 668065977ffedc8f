"""A plain Server-Sent Events reader over httpx, for the GET /changes tests."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx


@dataclass
class SseEvent:
    event: str
    id: str | None
    data: str
    comment: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


class Subscription:
    """``GET /changes`` as a stream; ``next()`` is the next event (or comment, if asked)."""

    def __init__(
        self,
        base_url: str,
        *,
        prompts: list[str] | None = None,
        last_event_id: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout))
        params = {"prompts": ",".join(prompts)} if prompts else {}
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self._cm = self.client.stream("GET", "/changes", params=params, headers=headers)
        self.response = self._cm.__enter__()
        self._lines = self.response.iter_lines()
        self.last_id: str | None = None  # as EventSource keeps it: set by every id line

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            self._cm.__exit__(None, None, None)
        self.client.close()

    def events(self, *, comments: bool = False) -> Iterator[SseEvent]:
        event, id_, data = "message", None, []
        for line in self._lines:
            if line == "":
                if data:
                    yield SseEvent(event, id_, "\n".join(data))
                event, data = "message", []
                continue
            if line.startswith(":"):
                if comments:
                    yield SseEvent("", None, "", comment=line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                id_ = self.last_id = value

    def next(self, *, comments: bool = False) -> SseEvent:
        return next(self.events(comments=comments))
