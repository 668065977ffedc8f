"""The prompt on the current OpenTelemetry span (docs/opentelemetry.md), when
``opentelemetry-api`` is installed (``pip install 'promptdeck[otel]'``); without it, nothing.

The clients write, and the server's OTLP ingest reads, ``gen_ai.prompt.name`` as the
prompt's name and ``gen_ai.prompt.version`` as the version's id (a decimal string). A span
that is not recording (no SDK configured, or sampled out) costs one context lookup.
"""

from __future__ import annotations

from typing import Any

try:
    from opentelemetry import trace as _trace
except ImportError:  # the optional dependency is absent: every call is a no-op
    _trace = None  # type: ignore[assignment]

PROMPT_NAME = "gen_ai.prompt.name"
PROMPT_VERSION = "gen_ai.prompt.version"
LABEL = "promptdeck.label"
ROLLOUT_ARM = "promptdeck.rollout.arm"  # baseline | candidate, when a rollout chose the version

enabled = _trace is not None


def recording() -> Any:
    """The current span when it records, else None (the cheap check: one context lookup)."""
    if _trace is None:
        return None
    span = _trace.get_current_span()
    return span if span.is_recording() else None


def annotate(
    name: str,
    version_id: int | None,
    *,
    label: str | None = None,
    arm: str | None = None,
    span: Any = None,
) -> None:
    """Set the prompt's attributes on ``span`` (default: the current one, if recording).
    ``version_id`` None (a fallback copy): no version is claimed."""
    span = span if span is not None else recording()
    if span is None:
        return
    attributes: dict[str, Any] = {PROMPT_NAME: name}
    if version_id is not None:
        attributes[PROMPT_VERSION] = str(version_id)
    if label is not None:
        attributes[LABEL] = label
    if arm is not None:
        attributes[ROLLOUT_ARM] = arm
    span.set_attributes(attributes)
