/**
 * What the server answers, as this client hands it out: the server's own field names in
 * camelCase (`version_name` is `versionName`, `model_config` is `modelConfig`), and what the
 * application wrote kept as written (the keys inside `modelConfig`, an event's `detail`, chat
 * `messages`, outcome `tags`, a `contract`). Times are the server's ISO 8601 strings
 * (microseconds kept; `new Date(s)` when a Date is wanted).
 */

import type { Kind, Message, TemplateFormat } from "./templates.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type ModelConfig = { [key: string]: Json };

// Keys whose values the application wrote: converted themselves, never their insides.
const OPAQUE = new Set(["model_config", "detail", "messages", "tags", "contract", "errors", "variables"]);

function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The server's JSON with its own keys in camelCase (see the module's note). */
export function camel<T>(value: unknown): T {
  return convert(value) as T;
}

function convert(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convert);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[camelKey(key)] = OPAQUE.has(key) ? inner : convert(inner);
  }
  return out;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface VersionSummary {
  id: number;
  promptId: number;
  number: number;
  versionName: string;
  description: string;
  createdAt: string;
  createdBy: string;
  contentHash: string;
  active: boolean;
  archived: boolean;
  archivedAt: string | null;
  purged: boolean;
  purgedAt: string | null;
  purgedBy: string | null;
  purgeReason: string | null;
  kind: Kind;
  templateFormat: TemplateFormat;
}

export interface VersionFields extends VersionSummary {
  /** The template (null once purged); for a chat version, its messages as JSON. */
  content: string | null;
  messages: Message[] | null;
  /** The variables its template uses, in order (placeholders included). */
  variables: string[] | null;
  modelConfig: ModelConfig | null;
  previousVersionId: number | null;
  /** A contract (variable checks), when the server gives one. */
  contract?: unknown;
}

export interface ActiveFields {
  promptId: number;
  promptName: string;
  versionId: number;
  number: number;
  versionName: string;
  description: string;
  content: string;
  modelConfig: ModelConfig;
  contentHash: string;
  createdAt: string;
  createdBy: string;
  kind: Kind;
  templateFormat: TemplateFormat;
  messages: Message[] | null;
  contract?: unknown;
}

export interface Prompt {
  id: number;
  name: string;
  description: string;
  tags: string[];
  /** The working copy: what the next version snapshots. */
  content: string;
  modelConfig: ModelConfig;
  activeVersion: VersionSummary | null;
  versionCount: number;
  maxVersions: number | null;
  /** Send it back as `ifMatch` to guard an edit. */
  etag: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface Event {
  id: number;
  promptId: number;
  kind: string;
  versionId: number | null;
  fromVersionId: number | null;
  actor: string;
  createdAt: string;
  detail: { [key: string]: Json };
}

export interface Label {
  promptId: number;
  name: string;
  versionId: number | null;
  number: number | null;
  versionName: string | null;
  protected: boolean;
  movedAt: string | null;
  movedBy: string | null;
  etag: string;
}

export interface LabelMove {
  id: number;
  promptId: number;
  label: string;
  fromVersionId: number | null;
  fromNumber: number | null;
  toVersionId: number | null;
  toNumber: number | null;
  actor: string;
  reason: string;
  createdAt: string;
}

export interface Moved {
  changed: boolean;
  label: Label;
}

export interface Deploy {
  id: number;
  promptId: number;
  label: string;
  versionId: number;
  number: number | null;
  fromVersionId: number | null;
  fromNumber: number | null;
  reason: string;
  proposedBy: string;
  createdAt: string;
  status: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  diff: string[];
}

export interface RenderResult {
  promptId: number;
  promptName: string;
  version: VersionSummary;
  kind: Kind;
  text: string | null;
  messages: Message[] | null;
  modelConfig: ModelConfig;
  unusedVariables: string[];
}

export interface Include {
  versionId: number;
  promptId: number;
  promptName: string;
  number: number;
  targetPromptId: number;
  targetPromptName: string;
  at: string | null;
  targetVersionId: number | null;
}

export interface Storage {
  promptId: number;
  versions: number;
  archived: number;
  purged: number;
  blobs: number;
  rawBytes: number;
  storedBytes: number;
  labelled: number;
}

export interface RawOutcome {
  id: number;
  versionId: number;
  at: string;
  success: boolean | null;
  score: number | null;
  latencyMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cost: number | null;
  feedback: number | null;
  tags: { [key: string]: string };
}

export interface RawOutcomes extends Page<RawOutcome> {
  kept: boolean;
  days: number;
}

export interface Alert {
  label: string;
  minSuccess: number;
  windowMinutes: number;
  minCount: number;
  createdAt: string | null;
  createdBy: string | null;
}

/** What one version did (GET …/impact); see docs/impact.md. */
export interface VersionImpact {
  versionId: number;
  number: number | null;
  versionName: string | null;
  count: number;
  successN: number;
  successRate: number | null;
  scoreN: number;
  meanScore: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  meanLatencyMs: number | null;
  inputTokens: number;
  outputTokens: number;
  cost: number;
  feedbackUp: number;
  feedbackDown: number;
  [key: string]: unknown;
}

/** GET …/impact: per version and label period, comparisons, series, marks; camelCase keys. */
export interface Impact {
  promptId: number;
  promptName: string;
  label: string;
  versions: VersionImpact[];
  [key: string]: unknown;
}

export interface OutcomesAccepted {
  accepted: number;
  alerts: number;
}

/** A move pushed on GET /changes. */
export interface Move {
  id: number;
  promptId: number;
  prompt: string;
  label: string;
  kind: string;
  versionId: number | null;
  number: number | null;
  versionName: string | null;
  at: string;
}
