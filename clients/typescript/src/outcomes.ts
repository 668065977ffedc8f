/**
 * The outcome queue behind `prompt.report(...)`: bounded, never throwing, sent in batches
 * from the background (as the Python client's `client/_outcomes.py`). A full queue drops the
 * new outcome and counts it; an outcome the server's schema would refuse (which would refuse
 * its whole batch) is counted and logged here, never thrown.
 */

import { codePoints } from "./pyjson.js";

/** How a call with a version went; every measure is optional. */
export interface Measures {
  success?: boolean;
  /** A quality score, 0..1. */
  score?: number;
  latencyMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  cost?: number;
  /** User feedback: +1 or -1. */
  feedback?: 1 | -1;
  /** A few free tags (at most 8; keys up to 64 characters, values up to 128). */
  tags?: Record<string, string>;
  /** When the call happened (default: when it is reported); a Date or ISO 8601 with a zone. */
  at?: Date | string;
}

/** Counters of the reporting queue (a metric for the application to export). */
export class OutcomeStats {
  queued = 0; // accepted into the queue
  sent = 0; // acknowledged by the server
  dropped = 0; // refused because the queue was full
  invalid = 0; // refused by the schema (a score above 1, an unknown field…)
  failed = 0; // in batches the server refused or could not be reached for

  get lost(): number {
    return this.dropped + this.invalid + this.failed;
  }
}

export type Outcome = Record<string, unknown>;

const ID_MAX = 2 ** 31 - 1;
const BATCH_MAX = 1000;
const PROMPT_NAME_MAX = 128;
const TAGS_MAX = 8;
const TAG_KEY_MAX = 64;
const TAG_VALUE_MAX = 128;
// ISO 8601 with a zone: the server refuses a naive time.
const AWARE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

const NUMBERS: ReadonlyArray<[keyof Measures, string, number, boolean]> = [
  // name, wire name, upper bound, integer
  ["score", "score", 1, false],
  ["latencyMs", "latency_ms", 86_400_000, false],
  ["inputTokens", "input_tokens", 1_000_000_000, true],
  ["outputTokens", "output_tokens", 1_000_000_000, true],
  ["cost", "cost", 1_000_000, false],
];
const KNOWN = new Set<string>(["success", "feedback", "tags", "at", ...NUMBERS.map((n) => n[0])]);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text the server stores: no NUL, no lone surrogate. */
function storable(text: string): boolean {
  return !text.includes("\0") && !LONE_SURROGATE.test(text);
}

/** The wire outcome, or why the server would refuse it. */
export function outcome(prompt: number | string, versionId: number, measures: Measures): Outcome | string {
  for (const key of Object.keys(measures)) {
    if (!KNOWN.has(key)) return `unknown measure ${JSON.stringify(key)}`;
  }
  if (typeof prompt === "number") {
    if (!Number.isInteger(prompt) || prompt < 1 || prompt > ID_MAX) return `prompt id ${prompt} out of range`;
  } else if (typeof prompt !== "string" || !prompt || codePoints(prompt) > PROMPT_NAME_MAX || !storable(prompt)) {
    return "prompt: an id or a name";
  }
  if (!Number.isInteger(versionId) || versionId < 1 || versionId > ID_MAX) {
    return `version_id ${versionId} out of range`;
  }
  const item: Outcome = { prompt_id: prompt, version_id: versionId };
  const at = measures.at ?? new Date();
  if (at instanceof Date) {
    if (Number.isNaN(at.getTime())) return "at: an invalid Date";
    item["at"] = at.toISOString();
  } else if (typeof at === "string" && AWARE.test(at) && !Number.isNaN(Date.parse(at))) {
    item["at"] = at;
  } else {
    return "at: a Date, or ISO 8601 with a time zone";
  }
  if (measures.success !== undefined) {
    if (typeof measures.success !== "boolean") return "success: true or false";
    item["success"] = measures.success;
  }
  for (const [name, wire, most, integer] of NUMBERS) {
    const value = measures[name];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > most) {
      return `${wire}: a number from 0 to ${most}`;
    }
    if (integer && !Number.isInteger(value)) return `${wire}: an integer`;
    item[wire] = value;
  }
  if (measures.feedback !== undefined) {
    if (measures.feedback !== 1 && measures.feedback !== -1) return "feedback: 1 or -1";
    item["feedback"] = measures.feedback;
  }
  if (measures.tags !== undefined) {
    const tags = measures.tags as unknown;
    if (tags === null || typeof tags !== "object" || Array.isArray(tags)) return "tags: an object of strings";
    const entries = Object.entries(tags);
    if (entries.length > TAGS_MAX) return `tags: at most ${TAGS_MAX}`;
    for (const [k, v] of entries) {
      if (!k || codePoints(k) > TAG_KEY_MAX || !storable(k)) return `tags: a key of 1 to ${TAG_KEY_MAX} characters`;
      if (typeof v !== "string" || codePoints(v) > TAG_VALUE_MAX || !storable(v)) {
        return `tags.${k}: a string of at most ${TAG_VALUE_MAX} characters`;
      }
    }
    if (entries.length > 0) item["tags"] = { ...tags };
  }
  return item;
}

export class OutcomeQueue {
  readonly batchSize: number;
  readonly stats = new OutcomeStats();
  inFlight = 0; // outcomes taken and not yet done (being sent)
  private items: Outcome[] = [];

  constructor(
    readonly maxSize = 10_000,
    batchSize = 500,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.batchSize = Math.max(1, Math.min(batchSize, BATCH_MAX));
  }

  get length(): number {
    return this.items.length;
  }

  /** Queue one outcome, stamped now; false (counted) when refused. Never throws. */
  put(prompt: number | string, versionId: number, measures: Measures): boolean {
    let item: Outcome | string;
    try {
      item = outcome(prompt, versionId, measures);
    } catch (exc) {
      item = String(exc);
    }
    if (typeof item === "string") {
      this.stats.invalid += 1;
      this.warn(`promptdeck: outcome not reported: ${item}`);
      return false;
    }
    if (this.items.length >= this.maxSize) {
      this.stats.dropped += 1;
      return false;
    }
    this.items.push(item);
    this.stats.queued += 1;
    return true;
  }

  take(): Outcome[] {
    const batch = this.items.splice(0, this.batchSize);
    this.inFlight += batch.length;
    return batch;
  }

  done(batch: readonly Outcome[], ok: boolean): void {
    this.inFlight -= batch.length;
    if (ok) this.stats.sent += batch.length;
    else this.stats.failed += batch.length;
  }
}
