"""The error tree of promptdeck.

Each error has a stable ``code`` (also the last part of its problem ``type`` URI). The HTTP
status of each code lives in one table at the edge (``server/problems.py``); the client raises
the same classes. Nothing here knows HTTP or SQL.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PromptdeckError(Exception):
    """Base class. ``code`` is stable; ``title`` is the same for every occurrence."""

    code: ClassVar[str] = "promptdeck-error"
    title: str = "Promptdeck error"
    status: int | None = None  # the HTTP status, when the error came over HTTP (client side)

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        status: int | None = None,
        title: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.extra = extra


class NotFound(PromptdeckError):
    code = "not-found"
    title = "Not found"


class PromptNotFound(NotFound):
    code = "prompt-not-found"
    title = "Prompt not found"


class VersionNotFound(NotFound):
    code = "version-not-found"
    title = "Version not found"


class Conflict(PromptdeckError):
    code = "conflict"
    title = "Conflict"


class PromptNameTaken(Conflict):
    code = "prompt-name-taken"
    title = "Prompt name taken"


class VersionNameTaken(Conflict):
    code = "version-name-taken"
    title = "Version name taken"


class PromptNotDeleted(Conflict):
    code = "prompt-not-deleted"
    title = "Prompt is not deleted"


class VersionUnavailable(Conflict):
    """The version exists but cannot be used as asked (archived beyond the limit, purged)."""

    code = "version-unavailable"
    title = "Version unavailable"


class ActiveVersionProtected(Conflict):
    code = "active-version-protected"
    title = "The active version cannot be changed this way"


class LabelNotFound(NotFound):
    code = "label-not-found"
    title = "Label not found"


class DeployRequestNotFound(NotFound):
    code = "deploy-request-not-found"
    title = "Deploy request not found"


class WebhookNotFound(NotFound):
    code = "webhook-not-found"
    title = "Webhook not found"


class TooManyWebhooks(Conflict):
    code = "too-many-webhooks"
    title = "Too many webhooks"


class LabelledVersionProtected(Conflict):
    """A version a label points at cannot be archived or purged; `active` cannot be removed."""

    code = "labelled-version-protected"
    title = "A labelled version cannot be changed this way"


class DeployRequestClosed(Conflict):
    code = "deploy-request-closed"
    title = "Deploy request already decided"


class DeployRequestStale(Conflict):
    """The label moved after the request was proposed: propose it again."""

    code = "deploy-request-stale"
    title = "Deploy request is stale"


class IdempotencyKeyReused(PromptdeckError):
    code = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


class StaleEtag(PromptdeckError):
    code = "precondition-failed"
    title = "Precondition failed"


class InvalidInput(PromptdeckError):
    code = "validation-error"
    title = "Invalid input"


class ExportMalformed(InvalidInput):
    """An OTLP export (POST /v1/traces) that cannot be decoded: not protobuf or JSON, the
    wrong shape, too many spans. 400, as OTLP/HTTP asks of data that will never pass."""

    code = "export-malformed"
    title = "Malformed OTLP export"


class PayloadTooLarge(PromptdeckError):
    code = "payload-too-large"
    title = "Payload too large"


class Unauthorized(PromptdeckError):
    """No credentials, or ones the server does not know (a bad, revoked or expired key)."""

    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(PromptdeckError):
    """Known credentials whose role or prompt prefixes do not allow this (or a protected
    label, approving one's own deploy request)."""

    code = "forbidden"
    title = "Forbidden"


class LabelProtected(Forbidden):
    code = "label-protected"
    title = "Label is protected"


class SelfApproval(Forbidden):
    code = "self-approval"
    title = "A deploy request needs another approver"


class CrossSiteRefused(Forbidden):
    """A write from another site, a foreign Host, or a form without its CSRF token."""

    code = "cross-site-refused"
    title = "Cross-site request refused"


class HostNotAllowed(PromptdeckError):
    """A Host header outside the server's names (DNS rebinding)."""

    code = "host-not-allowed"
    title = "Host not allowed"


class UnsupportedMediaType(PromptdeckError):
    code = "unsupported-media-type"
    title = "Unsupported media type"


class TooManyAttempts(PromptdeckError):
    """Repeated wrong passwords: wait ``retry_after`` seconds."""

    code = "too-many-attempts"
    title = "Too many failed sign-ins"


class RateLimited(PromptdeckError):
    """Too much from one caller too fast (outcomes past PROMPTDECK_OUTCOMES_RATE; runs past
    PROMPTDECK_RUN_RATE or PROMPTDECK_RUN_IN_FLIGHT): wait ``retry_after`` seconds."""

    code = "rate-limited"
    title = "Too many requests"


class AccountNotFound(NotFound):
    code = "account-not-found"
    title = "Key or user not found"


class AccountNameTaken(Conflict):
    code = "account-name-taken"
    title = "Key or user name taken"


# Aliases under the names HTTP users expect.
PreconditionFailed = StaleEtag


class ApiError(PromptdeckError):
    """An HTTP error answer with no more specific class (the client raises it)."""

    code = "api-error"
    title = "API error"


class ServerError(ApiError):
    """The server failed (5xx), after the client's retries."""

    code = "internal-error"
    title = "Internal server error"


class DatabaseUnavailable(ServerError):
    """The server's database cannot be reached or is busy beyond its timeout (503, with
    Retry-After): worth a retry, and the client's stale-if-error covers it."""

    code = "database-unavailable"
    title = "Database unavailable"


class ConnectionFailed(PromptdeckError):
    """The server could not be reached or did not answer in time, after retries."""

    code = "connection-failed"
    title = "Connection failed"


def error_classes() -> dict[str, type[PromptdeckError]]:
    """Every error class by its code (subclasses declared anywhere included)."""
    found: dict[str, type[PromptdeckError]] = {}
    pending: list[type[PromptdeckError]] = [PromptdeckError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


class TemplateInvalid(InvalidInput):
    """A template that cannot be parsed or rendered (bad message, bad include, bad Jinja)."""

    code = "template-invalid"
    title = "Invalid template"


class MissingVariables(InvalidInput):
    """Rendering needs variables the request did not give (``detail`` names them)."""

    code = "missing-variables"
    title = "Missing template variables"


class RenderTooLarge(InvalidInput):
    code = "render-too-large"
    title = "Rendered output too large"


class IncludeCycle(InvalidInput):
    """A version whose includes would lead back to its own prompt (``detail`` is the path)."""

    code = "include-cycle"
    title = "Include cycle"


class StillIncluded(Conflict):
    """A prompt or version that live versions include (``detail`` lists them)."""

    code = "still-included"
    title = "Included by other prompts"


class OutgoingRefused(InvalidInput):
    """A call out of the server (a model provider, a webhook) to an address it may not
    reach: loopback, link-local, private, shared, reserved or cloud metadata, unless
    ``PROMPTDECK_ALLOW_OUTGOING`` lists it; or a URL spelled so that where it leads is
    ambiguous (credentials, an address in hex). ``detail`` says which address and why."""

    code = "outgoing-refused"
    title = "Outgoing address refused"


class ProviderError(PromptdeckError):
    """A model provider did not give an answer. ``detail`` never holds the provider's key."""

    code = "provider-error"
    title = "Model provider error"


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, failed (5xx), kept answering 429 past the retries,
    or answered something that is not a chat completion (``retry_after`` when it said)."""

    code = "provider-unavailable"
    title = "Model provider unavailable"


class ProviderTimeout(ProviderUnavailable):
    """No (whole) answer within the provider's timeouts, retries included."""

    code = "provider-timeout"
    title = "Model provider timed out"


class ProviderRefused(ProviderError):
    """The provider answered 4xx: a bad key, an unknown model, a request it will not take
    (``provider_status`` is its status; ``detail`` its message, without the key)."""

    code = "provider-refused"
    title = "Model provider refused the request"


class RolloutNotFound(NotFound):
    """The label has no rollout (never had one, or its last one is over and was replaced)."""

    code = "rollout-not-found"
    title = "Rollout not found"


class RolloutInProgress(Conflict):
    """A label runs one rollout at a time; starting another (or moving the label by hand)
    waits for the running one to end."""

    code = "rollout-in-progress"
    title = "A rollout is in progress on this label"


class RolloutStateConflict(Conflict):
    """A control the rollout's status does not allow (advancing a completed rollout, resuming
    an aborted one…); ``detail`` names the status."""

    code = "rollout-state-conflict"
    title = "The rollout's status does not allow this"


class BreakingChange(Conflict):
    """A protected label moved to a version whose contract breaks what the label serves now,
    without ``accept_breaking``: ``detail`` and ``errors`` name each breaking change."""

    code = "breaking-change"
    title = "The move would break the label's callers"


class ContractInvalid(InvalidInput):
    """A version's contract that cannot be stored: not valid JSON Schema 2020-12, outside the
    supported vocabulary or bounds, tool names twice (``field`` is the path,
    ``contract.variables.properties.age.type``)."""

    code = "contract-invalid"
    title = "Invalid contract"


class VariablesInvalid(InvalidInput):
    """Render variables that the version's contract refuses: ``errors`` lists every failing
    path with its message (``variables.customer.age: expected integer``)."""

    code = "variables-invalid"
    title = "Variables do not match the contract"


class VariablesTooLarge(InvalidInput):
    """Variables too large to check against the contract within the render's CPU bound
    (their size times the schema's weight, docs/contracts.md)."""

    code = "variables-too-large"
    title = "Variables too large for the contract"


class ProviderKeyUnusable(ProviderError):
    """A provider's stored key cannot be sealed or opened: the server has no secret key
    (``PROMPTDECK_SECRET_KEY`` or its key file), or not the one the key was sealed with (the
    key file was lost or the key rotated away). ``detail`` says which and what to do."""

    code = "provider-key-unusable"
    title = "Model provider key unusable"


class ProviderNotFound(NotFound):
    code = "provider-not-found"
    title = "Model provider not found"


class ProviderNameTaken(Conflict):
    code = "provider-name-taken"
    title = "Model provider name taken"


class ProviderInUse(Conflict):
    """Evaluations name the provider: they keep it, so their results say who answered."""

    code = "provider-in-use"
    title = "Model provider in use"


class TestSetNotFound(NotFound):
    __test__ = False  # not a pytest class
    code = "test-set-not-found"
    title = "Test set not found"


class TestSetNameTaken(Conflict):
    __test__ = False
    code = "test-set-name-taken"
    title = "Test set name taken"


class TestSetFull(Conflict):
    """Adding the cases would take the set past its bound (limits.TEST_SET_CASES_MAX)."""

    __test__ = False
    code = "test-set-full"
    title = "Test set full"


class EvaluationNotFound(NotFound):
    code = "evaluation-not-found"
    title = "Evaluation not found"


class EvaluationFinished(Conflict):
    """The evaluation is completed, cancelled or failed: it takes no cancel and no report."""

    code = "evaluation-finished"
    title = "Evaluation already finished"


class ItemNotWorked(Conflict):
    """A result reported for an item whose answer is not in yet (the server still runs it)."""

    code = "evaluation-item-pending"
    title = "Evaluation item not worked yet"


class GateNotFound(NotFound):
    code = "gate-not-found"
    title = "Gate not found"


class GateFailed(Conflict):
    """The label's gate is not passed: ``reasons`` says why (no evaluation, a threshold
    unmet, worse than what the label serves); an admin may override it with a reason."""

    code = "gate-failed"
    title = "The label's gate is not passed"
