"""Rollouts (docs/rollouts.md): start one on a label, read it, pause, resume, advance, abort.
How `get_active` assigns a caller during one is the hot path's (aio.py, cache.py)."""

from __future__ import annotations

from typing import Any

from promptdeck.client import rollouts as rollout_calls
from promptdeck.client._async.base import AsyncSender
from promptdeck.schemas import Page, RolloutOut


class AsyncRolloutMethods(AsyncSender):
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
        override_gate: bool = False,
    ) -> RolloutOut:
        """Roll ``version`` (an id, or a version name) out on ``label`` by ``steps`` of the
        callers, judged by ``guard`` (``{"measure": "success_rate", "max_drop": 0.02}``);
        the label's version now is the baseline. ``plan``: a whole plan as JSON
        (docs/rollouts.md) that the other keywords add to. 409 while the label runs one.
        A label with a gate needs the candidate to pass it (``GateFailed``), unless an admin
        gives ``override_gate`` with a ``reason``.

        >>> await client.start_rollout("support-reply", "production", 9, steps=[5, 25, 100],
        ...     guard={"measure": "success_rate", "max_drop": 0.02})
        """
        body: dict[str, Any] = dict(plan or {})
        body["version_id"] = await self._version_id(prompt, version)
        given = {"steps": steps, "guard": guard, "sticky": sticky, "step_after": step_after}
        given.update({"advance": advance, "reason": reason, "salt": salt})
        body.update({k: v for k, v in given.items() if v is not None})
        if override_gate:
            body["override_gate"] = True
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
