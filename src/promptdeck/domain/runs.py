"""Running a prompt once (``POST /prompts/{id}/run``, the playground): what is asked (a saved
version or an unsaved draft, with variables, on a provider's model) and what the event log
keeps of it. Pure; the core renders and records (core/runs.py), the server calls the
provider (server/runs.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promptdeck.domain.commands import CreateVersion, OnPrompt, VersionDraft
from promptdeck.domain.completions import Completion
from promptdeck.domain.providers import ChatRequest

ERROR_KEEP = 300  # characters of a failed run's error in its event


@dataclass(frozen=True, slots=True)
class Draft:
    """An unsaved version: text ``content`` or chat ``messages``, its model config, contract
    and template format, checked as a version's would be (nothing is stored)."""

    content: str | None = None
    messages: list[dict[str, Any]] | None = None
    model_config: dict[str, Any] | None = None
    contract: dict[str, Any] | None = None
    template_format: str = "plain"

    def checked(
        self, prompt: Any, working_copy: str, working_config: dict[str, Any]
    ) -> VersionDraft:
        """The draft as a version would be written: the template and the contract checked
        (TemplateInvalid, ContractInvalid naming the path), the working copy's content or
        model config where the draft gives none."""
        kind = "chat" if self.messages is not None else "text"
        as_version = CreateVersion(
            prompt,
            content=self.content,
            messages=self.messages,
            kind=kind,
            model_config=self.model_config,
            contract=self.contract,
            template_format=self.template_format,
        )
        return as_version.draft(working_copy, working_config)


@dataclass(frozen=True, slots=True)
class RunPrompt(OnPrompt):
    """Run ``version_id``, else ``draft``, else the active version, with ``values``, on the
    ``provider``'s ``model`` (None: the version's ``model_config.model``, else the
    provider's first)."""

    values: dict[str, Any] = field(default_factory=dict)
    provider: str = ""
    version_id: int | None = None
    draft: Draft | None = None
    model: str | None = None
    stream: bool = False


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A run ready to send: the request and where to, and what its event will name."""

    prompt_id: int
    prompt_name: str
    version_id: int | None  # None: a draft
    provider_id: int
    request: ChatRequest
    stream: bool


@dataclass(frozen=True, slots=True)
class RunResult:
    """A run's answer (``completion``) or why there is none (``error``, a problem's code and
    detail), with how long the call took."""

    prepared: PreparedRun
    provider: str
    latency_ms: float
    completion: Completion | None = None
    error_code: str | None = None
    error: str | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.completion is not None

    def detail(self) -> dict[str, Any]:
        """The run's event detail: who ran what where, how long, ok or not; never the
        variables or the output (they may hold what a log should not)."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "model": self.prepared.request.model,
            "draft": self.prepared.version_id is None,
            "stream": self.prepared.stream,
            "latency_ms": round(self.latency_ms, 3),
            "ok": self.ok,
        }
        if self.completion is not None:
            out["usage"] = usage_json(self.completion)
            out["cost"] = self.completion.cost
        if self.error is not None:
            out["error"] = (self.error_code or "error") + ": " + self.error[:ERROR_KEEP]
        if self.cancelled:
            out["cancelled"] = True
        return out


def usage_json(completion: Completion) -> dict[str, int] | None:
    usage = completion.usage
    if usage is None:
        return None
    counts: Mapping[str, int | None] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    return {k: v for k, v in counts.items() if v is not None}
