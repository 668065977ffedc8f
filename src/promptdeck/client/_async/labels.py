"""Labels (named pointers at versions, moved with compare-and-swap) and deploy requests."""

from __future__ import annotations

from typing import Any

from promptdeck.client import _ops as ops
from promptdeck.client._async.base import AsyncSender
from promptdeck.schemas import DeployOut, LabelMoveOut, LabelOut, MovedOut, Page


class AsyncLabelMethods(AsyncSender):
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
        self,
        prompt: str | int,
        request_id: int,
        *,
        reason: str | None = None,
        override_gate: bool = False,
    ) -> DeployOut:
        """Approve: the label moves at once (admin; not the proposer). A label whose gate the
        candidate does not pass raises `GateFailed`, unless ``override_gate`` (with a
        ``reason``, recorded)."""
        return await self._send(
            ops.decide_deploy(
                prompt, request_id, approve=True, reason=reason, override_gate=override_gate
            )
        )

    async def reject_deploy(
        self, prompt: str | int, request_id: int, *, reason: str | None = None
    ) -> DeployOut:
        return await self._send(ops.decide_deploy(prompt, request_id, approve=False, reason=reason))
