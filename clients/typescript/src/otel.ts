/**
 * The prompt on the current OpenTelemetry span (docs/opentelemetry.md), when the application
 * uses OpenTelemetry's JavaScript API: `@opentelemetry/api` keeps its registered context
 * manager on a global (`Symbol.for("opentelemetry.js.api.1")`) and the active span in the
 * context under `Symbol.for("OpenTelemetry Context Key SPAN")`; both are read here, so the
 * client needs no dependency and does nothing without them. The clients write, and the
 * server's OTLP ingest reads, `gen_ai.prompt.name` (the prompt's name) and
 * `gen_ai.prompt.version` (the version's id, a decimal string).
 */

export const PROMPT_NAME = "gen_ai.prompt.name";
export const PROMPT_VERSION = "gen_ai.prompt.version";
export const LABEL = "promptdeck.label";
export const ROLLOUT_ARM = "promptdeck.rollout.arm"; // baseline | candidate, when a rollout chose the version

const API_KEY = Symbol.for("opentelemetry.js.api.1");
const SPAN_KEY = Symbol.for("OpenTelemetry Context Key SPAN");

/** What is used of a span: `setAttribute`, and `isRecording` when it has one. */
export interface SpanLike {
  setAttribute(key: string, value: string): unknown;
  isRecording?(): boolean;
}

interface ContextLike {
  getValue(key: symbol): unknown;
}

interface GlobalApi {
  context?: { active?(): ContextLike | undefined };
}

/** The current span when it records, else null (one context lookup; null without OTel). */
export function recordingSpan(): SpanLike | null {
  const api = (globalThis as Record<symbol, unknown>)[API_KEY] as GlobalApi | undefined;
  const active = api?.context?.active;
  if (typeof active !== "function") return null;
  let span: unknown;
  try {
    span = active.call(api?.context)?.getValue(SPAN_KEY);
  } catch {
    return null; // never into the application's request path
  }
  if (span === null || typeof span !== "object") return null;
  const found = span as SpanLike;
  if (typeof found.setAttribute !== "function") return null;
  if (typeof found.isRecording === "function" && !found.isRecording()) return null;
  return found;
}

/** Name the prompt and version (none for a fallback copy), the label and, when a rollout
 * chose the version, its arm on `span`. */
export function annotate(
  span: SpanLike | null,
  name: string,
  versionId: number | null,
  label: string | null = null,
  arm: string | null = null,
): void {
  if (span === null) return;
  try {
    span.setAttribute(PROMPT_NAME, name);
    if (versionId !== null) span.setAttribute(PROMPT_VERSION, String(versionId));
    if (label !== null) span.setAttribute(LABEL, label);
    if (arm !== null) span.setAttribute(ROLLOUT_ARM, arm);
  } catch {
    // a span that refuses an attribute costs the application nothing
  }
}
