"""Export and import: whole histories, one prompt or every prompt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from promptdeck.client import _ops as ops
from promptdeck.client._async.base import AsyncSender
from promptdeck.schemas import ImportOut, Page, PromptRecord


class AsyncTransferMethods(AsyncSender):
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
