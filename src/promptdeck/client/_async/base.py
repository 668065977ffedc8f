"""`AsyncSender`: what every part of the client stands on.

Sending a `Call` (retries with backoff, the problem as an error), reading a list page after
page, and naming a version by id or version name (labels, deploys and retention need it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import httpx

from promptdeck.client import _ops as ops
from promptdeck.client._http import Call, RetryPolicy, result, should_retry, transport_error
from promptdeck.client.cache import ActiveCache
from promptdeck.client.versions import version_ref
from promptdeck.errors import VersionNotFound
from promptdeck.schemas import Page, VersionOut, VersionSummaryOut

T = TypeVar("T")


class AsyncSender:
    """The base of the client's mixins; the client's ``__init__`` sets these."""

    url: str
    retry: RetryPolicy
    cache: ActiveCache
    _http: httpx.AsyncClient

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

    # --- naming a version -----------------------------------------------------------------

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

    async def _version_id(self, prompt: str | int, version: int | str) -> int:
        if isinstance(version, int):
            return version
        found = await self.get_version(prompt, version)
        return found.id
