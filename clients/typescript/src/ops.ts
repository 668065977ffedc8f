/** Every API operation as a `Call` (as the Python client's `client/_ops.py`): path, body, retry. */

import type { Split } from "./assign.js";
import { seg, type Answer, type Call, type Params } from "./http.js";
import { splitOfAnswer } from "./rollout-wire.js";
import type { Message, Variables } from "./templates.js";
import {
  camel,
  type ActiveFields,
  type Alert,
  type Deploy,
  type Event,
  type Impact,
  type Include,
  type Label,
  type LabelMove,
  type ModelConfig,
  type Moved,
  type OutcomesAccepted,
  type Page,
  type Prompt,
  type RawOutcomes,
  type RenderResult,
  type Storage,
  type VersionFields,
  type VersionSummary,
} from "./wire.js";

export interface RollbackOut {
  changed: boolean;
  prompt: Prompt;
  version: VersionFields;
}

function model<T>(answer: Answer): T {
  return camel<T>(answer.json);
}

function none(): void {}

function ifMatch(etag: string | null | undefined): Record<string, string> {
  return etag ? { "If-Match": etag } : {};
}

function prompt(ref: string | number): string {
  return `/prompts/${seg(ref)}`;
}

function id(value: number): number {
  if (!Number.isInteger(value)) throw new TypeError(`an id is an integer, not ${value}`);
  return value;
}

/** A fresh Idempotency-Key: a random UUID (Web Crypto where there is one: Node 19+, Deno,
 * Bun, browsers; Node 18 has no global `crypto` unless flagged, hence the fallback). */
export function newKey(): string {
  const webCrypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof webCrypto?.randomUUID === "function") return webCrypto.randomUUID();
  const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

export interface CreatePromptBody {
  name: string;
  content: string;
  description: string;
  tags: string[];
  model_config: ModelConfig;
  version_name: string | null;
  version_description: string;
  max_versions: number | null;
  messages?: Message[];
  template_format?: string;
}

export function createPrompt(body: CreatePromptBody, idempotencyKey: string | undefined): Call<Prompt> {
  return {
    method: "POST",
    path: "/prompts",
    parse: model<Prompt>,
    json: body,
    headers: { "Idempotency-Key": idempotencyKey ?? newKey() },
    retry: true,
  };
}

export function listPrompts(params: Params): Call<Page<Prompt>> {
  return { method: "GET", path: "/prompts", parse: model<Page<Prompt>>, params, retry: true };
}

export function getPrompt(ref: string | number): Call<Prompt> {
  return { method: "GET", path: prompt(ref), parse: model<Prompt>, retry: true };
}

export function updatePrompt(ref: string | number, changes: Record<string, unknown>, etag: string | undefined): Call<Prompt> {
  return { method: "PATCH", path: prompt(ref), parse: model<Prompt>, json: changes, headers: ifMatch(etag) };
}

export function deletePrompt(ref: string | number, etag: string | undefined, force: boolean): Call<void> {
  return {
    method: "DELETE",
    path: prompt(ref),
    parse: none,
    headers: ifMatch(etag),
    params: { force: force ? "true" : null },
  };
}

export function restorePrompt(ref: string | number): Call<Prompt> {
  return { method: "POST", path: `${prompt(ref)}/restore`, parse: model<Prompt> };
}

export function purgePrompt(ref: string | number): Call<void> {
  return { method: "POST", path: `${prompt(ref)}/purge`, parse: none };
}

export function listEvents(ref: string | number, params: Params): Call<Page<Event>> {
  return { method: "GET", path: `${prompt(ref)}/events`, parse: model<Page<Event>>, params, retry: true };
}

export function createVersion(
  ref: string | number,
  body: Record<string, unknown>,
  idempotencyKey: string | undefined,
): Call<VersionFields> {
  return {
    method: "POST",
    path: `${prompt(ref)}/versions`,
    parse: model<VersionFields>,
    json: body,
    headers: { "Idempotency-Key": idempotencyKey ?? newKey() },
    retry: true,
  };
}

export function listVersions(ref: string | number, params: Params): Call<Page<VersionSummary>> {
  return { method: "GET", path: `${prompt(ref)}/versions`, parse: model<Page<VersionSummary>>, params, retry: true };
}

export function getVersion(ref: string | number, versionId: number): Call<VersionFields> {
  return { method: "GET", path: `${prompt(ref)}/versions/${id(versionId)}`, parse: model<VersionFields>, retry: true };
}

export function rollback(
  ref: string | number,
  versionId: number,
  etag: string | undefined,
  label: string | undefined,
): Call<RollbackOut> {
  // Rolling back twice to one version is a no-op, so a retry is safe.
  return {
    method: "POST",
    path: `${prompt(ref)}/versions/${id(versionId)}/rollback`,
    parse: model<RollbackOut>,
    params: { label },
    headers: ifMatch(etag),
    retry: true,
  };
}

// Archive, restore and purge answer with the version as it now is when repeated: retried.
export function versionAction(
  ref: string | number,
  versionId: number,
  action: "archive" | "restore" | "purge",
  reason?: string,
): Call<VersionFields> {
  const path = `${prompt(ref)}/versions/${id(versionId)}`;
  if (action === "purge") {
    return { method: "DELETE", path, parse: model<VersionFields>, json: { reason }, retry: true };
  }
  return { method: "POST", path: `${path}/${action}`, parse: model<VersionFields>, retry: true };
}

export function getStorage(ref: string | number): Call<Storage> {
  return { method: "GET", path: `${prompt(ref)}/storage`, parse: model<Storage>, retry: true };
}

export function includes(ref: string | number, versionId: number, which: "dependencies" | "dependents"): Call<Include[]> {
  return { method: "GET", path: `${prompt(ref)}/versions/${id(versionId)}/${which}`, parse: model<Include[]>, retry: true };
}

export function render(ref: string | number, variables: Variables, version: string | number | undefined): Call<RenderResult> {
  // Rendering writes nothing: a retry is safe.
  const body: Record<string, unknown> = { variables };
  if (version !== undefined) body["version"] = String(version);
  return { method: "POST", path: `${prompt(ref)}/render`, parse: model<RenderResult>, json: body, retry: true };
}

/** The active version (or what `label` serves) and the server's ETag; null on a 304. */
/** What GET …/active answered: the version (null for a 304), its ETag, and the label's
 * rollout split (null: none), read by the wire adapter (rollout-wire.ts). */
export interface ActiveAnswer {
  value: ActiveFields | null;
  etag: string | null;
  split: Split | null;
}

export function fetchActive(ref: string | number, etag: string | null, params: Params, timeout: number): Call<ActiveAnswer> {
  return {
    method: "GET",
    path: `${prompt(ref)}/active`,
    parse: (answer) => {
      const split = splitOfAnswer(answer.headers, answer.json);
      return answer.status === 304
        ? { value: null, etag, split }
        : { value: camel<ActiveFields>(answer.json), etag: answer.headers.get("etag"), split };
    },
    params,
    headers: etag ? { "If-None-Match": etag } : {},
    retry: true,
    ok: [200, 304],
    timeout,
  };
}

// --- labels and deploy requests ------------------------------------------------------------

function label(ref: string | number, name: string): string {
  return `${prompt(ref)}/labels/${seg(name)}`;
}

export function listLabels(ref: string | number): Call<Label[]> {
  return { method: "GET", path: `${prompt(ref)}/labels`, parse: model<Label[]>, retry: true };
}

export function getLabel(ref: string | number, name: string): Call<Label> {
  return { method: "GET", path: label(ref, name), parse: model<Label>, retry: true };
}

export function moveLabel(
  ref: string | number,
  name: string,
  versionId: number,
  reason: string | undefined,
  etag: string | undefined,
): Call<Moved> {
  // A move to where the label is is a no-op, so a retry is safe.
  return {
    method: "PUT",
    path: label(ref, name),
    parse: model<Moved>,
    json: { version_id: id(versionId), reason: reason ?? null },
    headers: ifMatch(etag),
    retry: true,
  };
}

export function removeLabel(ref: string | number, name: string, reason: string | undefined, etag: string | undefined): Call<void> {
  return { method: "DELETE", path: label(ref, name), parse: none, params: { reason }, headers: ifMatch(etag) };
}

export function protectLabel(ref: string | number, name: string, protect: boolean): Call<Label> {
  return { method: "PATCH", path: label(ref, name), parse: model<Label>, json: { protected: protect }, retry: true };
}

export function revertLabel(ref: string | number, name: string, etag: string | undefined): Call<Moved> {
  // Not retried: a second revert would undo the first.
  return { method: "POST", path: `${label(ref, name)}/revert`, parse: model<Moved>, headers: ifMatch(etag) };
}

export function labelHistory(ref: string | number, name: string | undefined, params: Params): Call<Page<LabelMove>> {
  const path = name !== undefined ? `${label(ref, name)}/history` : `${prompt(ref)}/deploys`;
  return { method: "GET", path, parse: model<Page<LabelMove>>, params, retry: true };
}

export function proposeDeploy(ref: string | number, name: string, versionId: number, reason: string): Call<Deploy> {
  return {
    method: "POST",
    path: `${prompt(ref)}/deploy-requests`,
    parse: model<Deploy>,
    json: { label: name, version_id: id(versionId), reason },
  };
}

export function getDeploy(ref: string | number, requestId: number): Call<Deploy> {
  return { method: "GET", path: `${prompt(ref)}/deploy-requests/${id(requestId)}`, parse: model<Deploy>, retry: true };
}

export function listDeploys(ref: string | number, params: Params): Call<Page<Deploy>> {
  return { method: "GET", path: `${prompt(ref)}/deploy-requests`, parse: model<Page<Deploy>>, params, retry: true };
}

export function decideDeploy(ref: string | number, requestId: number, approve: boolean, reason: string | undefined): Call<Deploy> {
  const verb = approve ? "approve" : "reject";
  return {
    method: "POST",
    path: `${prompt(ref)}/deploy-requests/${id(requestId)}/${verb}`,
    parse: model<Deploy>,
    json: { reason: reason ?? null },
  };
}

// --- outcomes and impact -------------------------------------------------------------------

export function reportOutcomes(outcomes: readonly object[], timeout: number): Call<OutcomesAccepted> {
  // Not retried once sent: a batch that reached the server is counted; twice would double it.
  return { method: "POST", path: "/outcomes", parse: model<OutcomesAccepted>, json: { outcomes }, timeout };
}

export function impact(ref: string | number, params: Params): Call<Impact> {
  return { method: "GET", path: `${prompt(ref)}/impact`, parse: model<Impact>, params, retry: true };
}

export function listOutcomes(ref: string | number, params: Params): Call<RawOutcomes> {
  return { method: "GET", path: `${prompt(ref)}/outcomes`, parse: model<RawOutcomes>, params, retry: true };
}

export function listAlerts(ref: string | number): Call<Alert[]> {
  return { method: "GET", path: `${prompt(ref)}/alerts`, parse: model<Alert[]>, retry: true };
}

export function setAlert(ref: string | number, name: string, body: Record<string, number>): Call<Alert> {
  return { method: "PUT", path: `${prompt(ref)}/alerts/${seg(name)}`, parse: model<Alert>, json: body, retry: true };
}

export function removeAlert(ref: string | number, name: string): Call<void> {
  return { method: "DELETE", path: `${prompt(ref)}/alerts/${seg(name)}`, parse: none, retry: true };
}

export function health(): Call<Record<string, unknown>> {
  return { method: "GET", path: "/healthz", parse: (a) => a.json as Record<string, unknown>, retry: true };
}
