/**
 * The error tree of promptdeck, the same classes as the Python package's `promptdeck.errors`.
 *
 * Each class has a stable `code`, the last segment of its problem `type` URI
 * (`…/problems/version-name-taken` is `VersionNameTaken`); the client picks the class from the
 * problem and keeps the problem's fields on the error: `status`, `title`, `detail`, `field`,
 * `type`. `test/errors.test.ts` checks this tree against the Python one.
 */

/** One entry of a problem's `errors` list: `{path, message}` for a `variables-invalid`
 * (every failing path of the render's variables), FastAPI's `{loc, msg, type}` for a request
 * that fails the API's own schema (`validation-error`). */
export interface ProblemError {
  readonly path?: string;
  readonly message?: string;
  readonly [key: string]: unknown;
}

export interface ProblemFields {
  field?: string | null;
  status?: number | null;
  title?: string | null;
  type?: string | null;
  instance?: string | null;
  errors?: readonly ProblemError[] | null;
}

export class PromptdeckError extends Error {
  static readonly code: string = "promptdeck-error";
  static readonly title: string = "Promptdeck error";

  readonly detail: string;
  readonly field: string | null;
  /** The HTTP status, when the error came over HTTP; null when raised here (a render). */
  readonly status: number | null;
  readonly title: string;
  /** The problem's `type` URI, when the error came over HTTP. */
  readonly type: string | null;
  readonly instance: string | null;
  /** A problem's list of every error, as the server sent it (or as the local render made it):
   * a `variables-invalid` lists every failing path, `[{path, message}, …]`; null when the
   * problem has none. */
  readonly errors: readonly ProblemError[] | null;

  constructor(detail: string, fields: ProblemFields = {}) {
    super(detail);
    const cls = new.target as unknown as { code: string; title: string; name: string };
    this.name = cls.name;
    this.detail = detail;
    this.field = fields.field ?? null;
    this.status = fields.status ?? null;
    this.title = fields.title ?? cls.title;
    this.type = fields.type ?? null;
    this.instance = fields.instance ?? null;
    this.errors = fields.errors ?? null;
  }

  /** The stable code of this error's class. */
  get code(): string {
    return (this.constructor as typeof PromptdeckError).code;
  }
}

export class NotFound extends PromptdeckError {
  static override readonly code: string = "not-found";
  static override readonly title: string = "Not found";
}
export class PromptNotFound extends NotFound {
  static override readonly code: string = "prompt-not-found";
  static override readonly title: string = "Prompt not found";
}
export class VersionNotFound extends NotFound {
  static override readonly code: string = "version-not-found";
  static override readonly title: string = "Version not found";
}
export class LabelNotFound extends NotFound {
  static override readonly code: string = "label-not-found";
  static override readonly title: string = "Label not found";
}
/** The label has no rollout (never had one, or its last one is over and was replaced). */
export class RolloutNotFound extends NotFound {
  static override readonly code: string = "rollout-not-found";
  static override readonly title: string = "Rollout not found";
}
export class DeployRequestNotFound extends NotFound {
  static override readonly code: string = "deploy-request-not-found";
  static override readonly title: string = "Deploy request not found";
}
export class WebhookNotFound extends NotFound {
  static override readonly code: string = "webhook-not-found";
  static override readonly title: string = "Webhook not found";
}
export class AccountNotFound extends NotFound {
  static override readonly code: string = "account-not-found";
  static override readonly title: string = "Key or user not found";
}
export class ProviderNotFound extends NotFound {
  static override readonly code: string = "provider-not-found";
  static override readonly title: string = "Model provider not found";
}
export class TestSetNotFound extends NotFound {
  static override readonly code: string = "test-set-not-found";
  static override readonly title: string = "Test set not found";
}
export class EvaluationNotFound extends NotFound {
  static override readonly code: string = "evaluation-not-found";
  static override readonly title: string = "Evaluation not found";
}
export class GateNotFound extends NotFound {
  static override readonly code: string = "gate-not-found";
  static override readonly title: string = "Gate not found";
}

export class Conflict extends PromptdeckError {
  static override readonly code: string = "conflict";
  static override readonly title: string = "Conflict";
}
export class PromptNameTaken extends Conflict {
  static override readonly code: string = "prompt-name-taken";
  static override readonly title: string = "Prompt name taken";
}
export class VersionNameTaken extends Conflict {
  static override readonly code: string = "version-name-taken";
  static override readonly title: string = "Version name taken";
}
export class PromptNotDeleted extends Conflict {
  static override readonly code: string = "prompt-not-deleted";
  static override readonly title: string = "Prompt is not deleted";
}
/** The version exists but cannot be used as asked (purged). */
export class VersionUnavailable extends Conflict {
  static override readonly code: string = "version-unavailable";
  static override readonly title: string = "Version unavailable";
}
export class ActiveVersionProtected extends Conflict {
  static override readonly code: string = "active-version-protected";
  static override readonly title: string = "The active version cannot be changed this way";
}
export class TooManyWebhooks extends Conflict {
  static override readonly code: string = "too-many-webhooks";
  static override readonly title: string = "Too many webhooks";
}
export class LabelledVersionProtected extends Conflict {
  static override readonly code: string = "labelled-version-protected";
  static override readonly title: string = "A labelled version cannot be changed this way";
}
export class DeployRequestClosed extends Conflict {
  static override readonly code: string = "deploy-request-closed";
  static override readonly title: string = "Deploy request already decided";
}
export class DeployRequestStale extends Conflict {
  static override readonly code: string = "deploy-request-stale";
  static override readonly title: string = "Deploy request is stale";
}
export class AccountNameTaken extends Conflict {
  static override readonly code: string = "account-name-taken";
  static override readonly title: string = "Key or user name taken";
}
/** A label runs one rollout at a time: starting another (or moving the label by hand) waits. */
export class RolloutInProgress extends Conflict {
  static override readonly code: string = "rollout-in-progress";
  static override readonly title: string = "A rollout is in progress on this label";
}
/** A protected label moved to a version whose contract breaks what the label serves now,
 * without `accept_breaking`: `errors` names each breaking change. */
export class BreakingChange extends Conflict {
  static override readonly code: string = "breaking-change";
  static override readonly title: string = "The move would break the label's callers";
}
/** A rollout control its status does not allow (advancing a completed rollout…). */
export class RolloutStateConflict extends Conflict {
  static override readonly code: string = "rollout-state-conflict";
  static override readonly title: string = "The rollout's status does not allow this";
}
/** A prompt or version that live versions include (`detail` lists them). */
export class StillIncluded extends Conflict {
  static override readonly code: string = "still-included";
  static override readonly title: string = "Included by other prompts";
}
export class ProviderNameTaken extends Conflict {
  static override readonly code: string = "provider-name-taken";
  static override readonly title: string = "Model provider name taken";
}
/** Evaluations name the provider: they keep it, so their results say who answered. */
export class ProviderInUse extends Conflict {
  static override readonly code: string = "provider-in-use";
  static override readonly title: string = "Model provider in use";
}
export class TestSetNameTaken extends Conflict {
  static override readonly code: string = "test-set-name-taken";
  static override readonly title: string = "Test set name taken";
}
/** Adding the cases would take the test set past its bound. */
export class TestSetFull extends Conflict {
  static override readonly code: string = "test-set-full";
  static override readonly title: string = "Test set full";
}
/** The evaluation is completed, cancelled or failed: it takes no cancel and no report. */
export class EvaluationFinished extends Conflict {
  static override readonly code: string = "evaluation-finished";
  static override readonly title: string = "Evaluation already finished";
}
/** A result reported for an item whose answer is not in yet (the server still runs it). */
export class ItemNotWorked extends Conflict {
  static override readonly code: string = "evaluation-item-pending";
  static override readonly title: string = "Evaluation item not worked yet";
}
/** The label's gate is not passed (no evaluation, a threshold unmet, worse than what the
 * label serves); an admin may override it with a reason. */
export class GateFailed extends Conflict {
  static override readonly code: string = "gate-failed";
  static override readonly title: string = "The label's gate is not passed";
}

export class IdempotencyKeyReused extends PromptdeckError {
  static override readonly code: string = "idempotency-key-reused";
  static override readonly title: string = "Idempotency key reused with a different request";
}
/** `ifMatch` was stale: someone changed it since you read it (412). */
export class StaleEtag extends PromptdeckError {
  static override readonly code: string = "precondition-failed";
  static override readonly title: string = "Precondition failed";
}
/** The name HTTP users expect for `StaleEtag`. */
export const PreconditionFailed = StaleEtag;
export type PreconditionFailed = StaleEtag;

export class InvalidInput extends PromptdeckError {
  static override readonly code: string = "validation-error";
  static override readonly title: string = "Invalid input";
}
/** A template that cannot be parsed or rendered (bad message, bad include, Jinja here). */
export class TemplateInvalid extends InvalidInput {
  static override readonly code: string = "template-invalid";
  static override readonly title: string = "Invalid template";
}
/** Rendering needs variables that were not given (`detail` names them all). */
export class MissingVariables extends InvalidInput {
  static override readonly code: string = "missing-variables";
  static override readonly title: string = "Missing template variables";
}
export class RenderTooLarge extends InvalidInput {
  static override readonly code: string = "render-too-large";
  static override readonly title: string = "Rendered output too large";
}
export class IncludeCycle extends InvalidInput {
  static override readonly code: string = "include-cycle";
  static override readonly title: string = "Include cycle";
}

/** A version's contract outside the supported vocabulary or bounds (`field` is the path:
 * `contract.variables.properties.age.type`). */
export class ContractInvalid extends InvalidInput {
  static override readonly code: string = "contract-invalid";
  static override readonly title: string = "Invalid contract";
}
/** Render variables the version's contract refuses: `errors` lists every failing path with
 * its message (`{path: "variables.customer.age", message: "expected integer"}`). */
export class VariablesInvalid extends InvalidInput {
  static override readonly code: string = "variables-invalid";
  static override readonly title: string = "Variables do not match the contract";
}
/** Variables too large to check against the contract within the render's CPU bound. */
export class VariablesTooLarge extends InvalidInput {
  static override readonly code: string = "variables-too-large";
  static override readonly title: string = "Variables too large for the contract";
}
/** A call out of the server (a model provider, a webhook) to an address it may not reach. */
export class OutgoingRefused extends InvalidInput {
  static override readonly code: string = "outgoing-refused";
  static override readonly title: string = "Outgoing address refused";
}
/** An OTLP export (POST /v1/traces) that cannot be decoded. */
export class ExportMalformed extends InvalidInput {
  static override readonly code: string = "export-malformed";
  static override readonly title: string = "Malformed OTLP export";
}

export class PayloadTooLarge extends PromptdeckError {
  static override readonly code: string = "payload-too-large";
  static override readonly title: string = "Payload too large";
}
export class Unauthorized extends PromptdeckError {
  static override readonly code: string = "unauthorized";
  static override readonly title: string = "Unauthorized";
}
export class Forbidden extends PromptdeckError {
  static override readonly code: string = "forbidden";
  static override readonly title: string = "Forbidden";
}
export class LabelProtected extends Forbidden {
  static override readonly code: string = "label-protected";
  static override readonly title: string = "Label is protected";
}
export class SelfApproval extends Forbidden {
  static override readonly code: string = "self-approval";
  static override readonly title: string = "A deploy request needs another approver";
}
export class CrossSiteRefused extends Forbidden {
  static override readonly code: string = "cross-site-refused";
  static override readonly title: string = "Cross-site request refused";
}
export class HostNotAllowed extends PromptdeckError {
  static override readonly code: string = "host-not-allowed";
  static override readonly title: string = "Host not allowed";
}
export class UnsupportedMediaType extends PromptdeckError {
  static override readonly code: string = "unsupported-media-type";
  static override readonly title: string = "Unsupported media type";
}
export class TooManyAttempts extends PromptdeckError {
  static override readonly code: string = "too-many-attempts";
  static override readonly title: string = "Too many failed sign-ins";
}

/** Too much from one caller too fast (429): wait `Retry-After` seconds. */
export class RateLimited extends PromptdeckError {
  static override readonly code: string = "rate-limited";
  static override readonly title: string = "Too many requests";
}

/** The model provider failed (the server's calls to a model: evaluations, playground). */
export class ProviderError extends PromptdeckError {
  static override readonly code: string = "provider-error";
  static override readonly title: string = "Model provider error";
}
export class ProviderUnavailable extends ProviderError {
  static override readonly code: string = "provider-unavailable";
  static override readonly title: string = "Model provider unavailable";
}
export class ProviderTimeout extends ProviderUnavailable {
  static override readonly code: string = "provider-timeout";
  static override readonly title: string = "Model provider timed out";
}
export class ProviderRefused extends ProviderError {
  static override readonly code: string = "provider-refused";
  static override readonly title: string = "Model provider refused the request";
}
/** A provider's stored key cannot be sealed or opened with the server's secret key. */
export class ProviderKeyUnusable extends ProviderError {
  static override readonly code: string = "provider-key-unusable";
  static override readonly title: string = "Model provider key unusable";
}

/** An HTTP error answer with no more specific class. */
export class ApiError extends PromptdeckError {
  static override readonly code: string = "api-error";
  static override readonly title: string = "API error";
}
/** The server failed (5xx), after the client's retries. */
export class ServerError extends ApiError {
  static override readonly code: string = "internal-error";
  static override readonly title: string = "Internal server error";
}
/** The server's database is unreachable or busy (503): stale-if-error covers it. */
export class DatabaseUnavailable extends ServerError {
  static override readonly code: string = "database-unavailable";
  static override readonly title: string = "Database unavailable";
}
/** The server could not be reached or did not answer in time, after retries. */
export class ConnectionFailed extends PromptdeckError {
  static override readonly code: string = "connection-failed";
  static override readonly title: string = "Connection failed";
}

export type ErrorClass = (new (detail: string, fields?: ProblemFields) => PromptdeckError) & {
  readonly code: string;
  readonly title: string;
};

const ALL: ErrorClass[] = [
  PromptdeckError,
  NotFound,
  PromptNotFound,
  VersionNotFound,
  LabelNotFound,
  RolloutNotFound,
  DeployRequestNotFound,
  WebhookNotFound,
  AccountNotFound,
  ProviderNotFound,
  TestSetNotFound,
  EvaluationNotFound,
  GateNotFound,
  Conflict,
  PromptNameTaken,
  VersionNameTaken,
  PromptNotDeleted,
  VersionUnavailable,
  ActiveVersionProtected,
  TooManyWebhooks,
  LabelledVersionProtected,
  DeployRequestClosed,
  DeployRequestStale,
  AccountNameTaken,
  StillIncluded,
  ProviderNameTaken,
  ProviderInUse,
  TestSetNameTaken,
  TestSetFull,
  EvaluationFinished,
  ItemNotWorked,
  GateFailed,
  RolloutInProgress,
  RolloutStateConflict,
  BreakingChange,
  IdempotencyKeyReused,
  StaleEtag,
  InvalidInput,
  TemplateInvalid,
  MissingVariables,
  RenderTooLarge,
  IncludeCycle,
  ContractInvalid,
  VariablesInvalid,
  VariablesTooLarge,
  OutgoingRefused,
  ExportMalformed,
  PayloadTooLarge,
  Unauthorized,
  Forbidden,
  LabelProtected,
  SelfApproval,
  CrossSiteRefused,
  HostNotAllowed,
  UnsupportedMediaType,
  TooManyAttempts,
  RateLimited,
  ProviderError,
  ProviderUnavailable,
  ProviderTimeout,
  ProviderRefused,
  ProviderKeyUnusable,
  ApiError,
  ServerError,
  DatabaseUnavailable,
  ConnectionFailed,
];

/** Every error class by its code. */
export const errorClasses: ReadonlyMap<string, ErrorClass> = new Map(ALL.map((c) => [c.code, c]));

// When a problem's code is unknown to this client (a newer server), its status decides.
const BY_STATUS: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
  [404, NotFound],
  [409, Conflict],
  [412, StaleEtag],
  [413, PayloadTooLarge],
  [422, InvalidInput],
  [429, RateLimited],
]);

/** The error a problem+json answer names, with the problem's fields kept on it. */
export function errorFrom(status: number, body: unknown, text: string, reason: string): PromptdeckError {
  const problem: Record<string, unknown> =
    body !== null && typeof body === "object" && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const type = typeof problem["type"] === "string" ? problem["type"] : "";
  const code = type.replace(/\/+$/, "").split("/").pop() ?? "";
  let cls = code ? errorClasses.get(code) : undefined;
  if (cls === undefined || cls === PromptdeckError || cls === ApiError) {
    cls = BY_STATUS.get(status) ?? (status >= 500 ? ServerError : ApiError);
  }
  const detail = String(problem["detail"] || text.slice(0, 500) || reason);
  const str = (key: string): string | null => {
    const value = problem[key];
    return typeof value === "string" ? value : null;
  };
  return new cls(detail, {
    field: str("field"),
    status,
    title: str("title") || reason || cls.title,
    type: str("type"),
    instance: str("instance"),
    errors: problemErrors(problem["errors"]),
  });
}

/** A problem's `errors`: a list of objects, or null when it has none (or something else). */
function problemErrors(value: unknown): ProblemError[] | null {
  if (!Array.isArray(value)) return null;
  const items = value as unknown[];
  return items.every((e) => e !== null && typeof e === "object" && !Array.isArray(e)) ? (items as ProblemError[]) : null;
}
