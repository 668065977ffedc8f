"""Commands: what a face asks the core to do, one small frozen dataclass each.

A face builds one (a wire schema's ``to_command()``, a UI form, a test) and hands it whole,
with the ``Caller``, to ``Registry``; the operation in ``core/`` reads it. Nothing is
unpacked into keywords on the way. A command names its prompt by a ``PromptRef``; a ``str``
(an id or a name, as in a path) is parsed once, here.

Headers belong to the request too: ``if_match`` and ``idempotency_key`` travel in the command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from promptdeck.domain import contracts, history, templates
from promptdeck.domain.contracts import Contract
from promptdeck.domain.refs import PromptLike, PromptRef, VersionRef
from promptdeck.errors import InvalidInput, TemplateInvalid


@dataclass(frozen=True, slots=True)
class OnPrompt:
    """A command about one prompt: its id or name, as text from a path (parsed here, once,
    into a ``PromptRef``) or already a ``PromptRef``."""

    prompt: PromptLike

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompt", PromptRef.parse(self.prompt))


@dataclass(frozen=True, slots=True)
class OnVersion(OnPrompt):
    """A command about one version of a prompt (rule 5: another prompt's is missing)."""

    version_id: int

    @property
    def version(self) -> VersionRef:
        return VersionRef(PromptRef.parse(self.prompt), self.version_id)


# --- prompts (core/prompts.py) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreatePrompt:
    """A prompt with its first version, which is active (rule 1). ``messages``: the first
    version is a chat one (the working copy stays ``content``)."""

    name: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    content: str = ""
    model_config: dict[str, Any] = field(default_factory=dict)
    version_name: str | None = None
    version_description: str = ""
    max_versions: int | None = None
    messages: list[dict[str, Any]] | None = None
    template_format: str = "plain"
    idempotency_key: str | None = None
    kind: str | None = None  # None: chat when messages are given, else text
    contract: dict[str, Any] | None = None  # as sent; checked when the version is drafted

    def request(self) -> dict[str, Any]:
        """What an Idempotency-Key's hash covers (stored: keep these keys as they are; the
        template fields only when not the default)."""
        request: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "content": self.content,
            "model_config": self.model_config,
            "version_name": self.version_name,
            "version_description": self.version_description,
            "max_versions": self.max_versions,
        }
        if self.messages is not None:
            request["messages"] = self.messages
        if self.template_format != "plain":
            request["template_format"] = self.template_format
        if self.kind is not None:
            request["kind"] = self.kind
        if self.contract is not None:
            request["contract"] = self.contract
        return request

    def first_version(self) -> VersionDraft:
        """The first version to write, checked: a chat one when messages are given (``kind``
        may say so, as on a new version), else the text of the working copy."""
        kind = self.kind or ("text" if self.messages is None else "chat")
        if kind == "chat":
            content = templates.encode_messages(templates.check_messages(self.messages))
        elif self.messages is not None:
            raise TemplateInvalid('messages need "kind": "chat"', field="messages")
        else:
            content = self.content
        templates.check(kind, self.template_format, content)
        return VersionDraft(
            self.version_name,
            self.version_description,
            content,
            self.model_config,
            activate=True,
            kind=kind,
            template_format=self.template_format,
            contract=checked_contract(self.contract, kind, self.template_format, content),
        )


@dataclass(frozen=True, slots=True)
class UpdatePrompt(OnPrompt):
    """Metadata and working copy (rule 6): ``changes`` holds only the fields to set, under
    their domain names (``max_versions`` None: unlimited)."""

    changes: dict[str, Any] = field(default_factory=dict)
    if_match: str | None = None


@dataclass(frozen=True, slots=True)
class DeletePrompt(OnPrompt):
    """A soft delete (rule 7); ``force``: even though other prompts include it."""

    if_match: str | None = None
    force: bool = False


@dataclass(frozen=True, slots=True)
class RestorePrompt(OnPrompt):
    pass


@dataclass(frozen=True, slots=True)
class PurgePrompt(OnPrompt):
    """Hard delete of a prompt already soft-deleted."""


# --- versions (core/versions.py, core/retention.py) ---------------------------------------


@dataclass(frozen=True, slots=True)
class VersionDraft:
    """A version as ``core/versions.insert`` writes it: the content resolved and checked."""

    version_name: str | None
    description: str
    content: str
    model_config: dict[str, Any]
    activate: bool
    kind: str = "text"
    template_format: str = "plain"
    contract: Contract | None = None


def checked_contract(
    raw: dict[str, Any] | None, kind: str, template_format: str, content: str
) -> Contract | None:
    """The contract a request gives, checked whole and against the template it is for
    (ContractInvalid naming the path); None: none given (read, it is inferred)."""
    if not raw:  # omitted, or {}: none (read, its variables are inferred)
        return None
    contract = contracts.check_contract(raw)
    contracts.check_template(contract, kind, template_format, content)
    return contract


@dataclass(frozen=True, slots=True)
class CreateVersion(OnPrompt):
    """A new version (rules 2, 3); None content or model config: the working copy's. The
    active version stays unless ``activate``. ``save_working_copy`` also makes the content
    and model config the working copy, in the same transaction (an editor's "save as new
    version"); ``if_match`` (the prompt's ETag) guards it. ``if_changed``: nothing is
    created when the latest version is the same."""

    version_name: str | None = None
    description: str = ""
    content: str | None = None
    model_config: dict[str, Any] | None = None
    activate: bool = False
    save_working_copy: bool = False
    kind: str = "text"
    messages: list[dict[str, Any]] | None = None
    template_format: str = "plain"
    if_changed: bool = False
    idempotency_key: str | None = None
    if_match: str | None = None
    contract: dict[str, Any] | None = None  # as sent; checked when drafted

    def request(self) -> dict[str, Any]:
        """What an Idempotency-Key's hash covers (stored: keep these keys as they are)."""
        request: dict[str, Any] = {
            "version_name": self.version_name,
            "description": self.description,
            "content": self.content,
            "model_config": self.model_config,
            "activate": self.activate,
        }
        if self.save_working_copy:
            request["save_working_copy"] = True
        # Only when not the default, so keys stored before templates keep their hashes.
        if self.kind != "text":
            request["kind"] = self.kind
            request["messages"] = self.messages
        if self.template_format != "plain":
            request["template_format"] = self.template_format
        if self.if_changed:
            request["if_changed"] = True
        if self.contract is not None:
            request["contract"] = self.contract
        return request

    def draft(self, working_copy: str, working_config: dict[str, Any]) -> VersionDraft:
        """The version to write over this working copy: the content checked (the text, or a
        chat version's messages as JSON)."""
        if self.kind == "chat":
            if self.content is not None:
                raise TemplateInvalid("a chat version takes messages, not content", field="content")
            content = templates.encode_messages(templates.check_messages(self.messages))
        else:
            if self.messages is not None:
                raise TemplateInvalid('messages need "kind": "chat"', field="messages")
            content = working_copy if self.content is None else self.content
        templates.check(self.kind, self.template_format, content)
        return VersionDraft(
            self.version_name,
            self.description,
            content,
            working_config if self.model_config is None else self.model_config,
            self.activate,
            self.kind,
            self.template_format,
            checked_contract(self.contract, self.kind, self.template_format, content),
        )


@dataclass(frozen=True, slots=True)
class Rollback(OnVersion):
    """Make the version active (rule 4), or point ``label`` at it (``if_match`` is then the
    label's ETag)."""

    if_match: str | None = None
    label: str | None = None
    accept_breaking: bool = False  # a protected label to a contract that breaks its callers


@dataclass(frozen=True, slots=True)
class ArchiveVersion(OnVersion):
    pass


@dataclass(frozen=True, slots=True)
class RestoreVersion(OnVersion):
    pass


@dataclass(frozen=True, slots=True)
class PurgeVersion(OnVersion):
    """Destroy the content for good; the reason is required (kept in the tombstone)."""

    reason: str | None = None


# --- labels and deploy requests (core/labels.py, core/deploys.py) --------------------------


@dataclass(frozen=True, slots=True)
class MoveLabel(OnPrompt):
    """Point ``label`` at a version; ``if_match`` (the label's ETag): a compare-and-swap."""

    label: str
    version_id: int
    reason: str | None = None
    if_match: str | None = None
    accept_breaking: bool = False  # a protected label to a contract that breaks its callers


@dataclass(frozen=True, slots=True)
class RemoveLabel(OnPrompt):
    label: str
    reason: str | None = None
    if_match: str | None = None


@dataclass(frozen=True, slots=True)
class RevertLabel(OnPrompt):
    """Undo the label's last move, as one recorded move."""

    label: str
    if_match: str | None = None
    accept_breaking: bool = False  # a protected label to a contract that breaks its callers


@dataclass(frozen=True, slots=True)
class ProtectLabel(OnPrompt):
    label: str
    protected: bool


@dataclass(frozen=True, slots=True)
class ProposeDeploy(OnPrompt):
    """``plan``: a rollout plan (decoded JSON, docs/rollouts.md) for ``version_id``;
    approving the request then starts that rollout instead of moving the label."""

    label: str
    version_id: int
    reason: str | None
    plan: object | None = None


@dataclass(frozen=True, slots=True)
class DecideDeploy(OnPrompt):
    """Approve (the label moves at once) or reject; never by the proposer."""

    request_id: int
    approve: bool
    reason: str | None = None
    accept_breaking: bool = False  # a protected label to a contract that breaks its callers
    override_gate: bool = False  # an admin approves what the label's gate refused (issue 25)


# --- rollouts (core/rollouts.py) --------------------------------------------------------------

RolloutAction = Literal["pause", "resume", "advance", "abort"]


@dataclass(frozen=True, slots=True)
class StartRollout(OnPrompt):
    """Start a rollout on ``label``; ``plan``: the body as decoded JSON (``parse_plan``
    checks it whole). Its version now is the baseline."""

    label: str
    plan: object
    accept_breaking: bool = False  # a protected label to a contract that breaks its callers
    override_gate: bool = False  # start although the label's gate fails (admin; plan's reason)


@dataclass(frozen=True, slots=True)
class ControlRollout(OnPrompt):
    """Pause, resume, advance now or abort the label's rollout."""

    label: str
    action: RolloutAction
    reason: str | None = None


# --- outcomes and alert rules (core/outcomes.py) --------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One reported call of a prompt version (as validated by the wire schema)."""

    prompt: str  # an id or a name
    version_id: int
    success: bool | None = None
    score: float | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    feedback: int | None = None  # +1 or -1
    tags: dict[str, str] = field(default_factory=dict)
    at: datetime | None = None  # None: when the server receives it


@dataclass(frozen=True, slots=True)
class ReportOutcomes:
    """A batch of outcomes: all counted, or none; ``partial``: each bad one refused alone
    and the rest counted (OTLP's partial success: POST /v1/traces)."""

    outcomes: Sequence[Outcome]
    partial: bool = False


@dataclass(frozen=True, slots=True)
class SetAlert(OnPrompt):
    """Alert when success after a move of ``label`` falls below ``min_success``."""

    label: str
    min_success: float
    window_minutes: int = 15
    min_count: int = 20


@dataclass(frozen=True, slots=True)
class RemoveAlert(OnPrompt):
    label: str


# --- templates and transfer (core/render.py, core/transfer.py) ------------------------------


@dataclass(frozen=True, slots=True)
class RenderPrompt(OnPrompt):
    """Render ``version_id``, else ``at`` (a number, label or version name), else the
    active version, with ``values``."""

    values: dict[str, Any] = field(default_factory=dict)
    version_id: int | None = None
    at: str | None = None


@dataclass(frozen=True, slots=True)
class ImportPrompt:
    """An exported record (a validated ``schemas.PromptImport``), written as it is. Its
    parts must also agree (domain/history.py): checked when made, so a refusal never takes
    the write lock."""

    record: dict[str, Any]

    def __post_init__(self) -> None:
        found = history.problem(self.record)
        if found is not None:
            raise InvalidInput(f"{found[0]}: {found[1]}", field=found[0])

    @property
    def name(self) -> str:
        return str(self.record.get("name", ""))
