/**
 * Versions that render themselves with no request: `ActivePrompt` (what `getActive` returns,
 * includes resolved from the client's caches) and `Version` (what `getVersion` returns).
 */

import type { Arm } from "./assign.js";
import * as otel from "./otel.js";
import { TemplateInvalid, VersionUnavailable } from "./errors.js";
import type { Measures } from "./outcomes.js";
import {
  checkVariables,
  IncludeRef,
  includes,
  render,
  renderedValue,
  type Kind,
  type Message,
  type Rendered,
  type TemplateFormat,
  type Variables,
} from "./templates.js";
import type { ActiveFields, ModelConfig, VersionFields } from "./wire.js";

/** Where a copy came from. */
export type Source = "server" | "cache" | "revalidated" | "stale" | "fallback";

/** `{ system, messages }` for Anthropic's `messages.create`. */
export interface AnthropicArgs {
  system?: string;
  messages: Message[];
}

function anthropic(out: Rendered): AnthropicArgs {
  const messages = out.messages ?? [{ role: "user", content: out.text ?? "" }];
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => m.content ?? "")
    .join("\n\n");
  const rest = messages.filter((m) => m.role !== "system");
  return system ? { system, messages: rest } : { messages: rest };
}

/** (prompt id, version id, measures) -> queued or not: the client's outcome queue. */
export type Reporter = (prompt: number | string, versionId: number, measures: Measures) => boolean;

/** The texts of a copy's includes, resolved by the client, or why they could not be. */
export interface IncludeTexts {
  texts: ReadonlyMap<string, string> | null;
  error: string | null;
}

/**
 * The active version of a prompt (or what a label serves), as `getActive` returns it.
 *
 * `source` says where it came from: `server` (just fetched), `cache` (fresh in the cache),
 * `revalidated` (the server said 304), `stale` (the server failed: the last good copy) or
 * `fallback` (no server and no copy: the `fallback` content, version id 0).
 */
export class ActivePrompt implements ActiveFields {
  readonly promptId!: number;
  readonly promptName!: string;
  readonly versionId!: number;
  readonly number!: number;
  readonly versionName!: string;
  readonly description!: string;
  readonly content!: string;
  readonly modelConfig!: ModelConfig;
  readonly contentHash!: string;
  readonly createdAt!: string;
  readonly createdBy!: string;
  readonly kind!: Kind;
  readonly templateFormat!: TemplateFormat;
  readonly messages!: Message[] | null;
  readonly contract?: unknown;
  /** The server's ETag for this copy (sent back in If-None-Match); null for a fallback. */
  readonly etag: string | null;
  readonly source: Source;
  #reporter: Reporter | null;
  #includes: IncludeTexts | null;
  #refs: IncludeRef[] | null = null;
  // The label it was asked by (`active` by default) and, when a rollout chose it, the arm:
  // both go on the current span (docs/opentelemetry.md). With an arm, its outcomes are tagged
  // with the label, so that the rollout's guard counts them for that rollout only.
  #label: string | null;
  #arm: Arm | null;

  constructor(
    fields: ActiveFields,
    source: Source,
    etag: string | null,
    reporter: Reporter | null = null,
    texts: IncludeTexts | null = null,
    label: string | null = null,
    arm: Arm | null = null,
  ) {
    Object.assign(this, fields);
    this.etag = etag;
    this.source = source;
    this.#reporter = reporter;
    this.#includes = texts;
    this.#label = label;
    this.#arm = arm;
    Object.freeze(this);
  }

  /** The version's id (the same as `versionId`, as on a `Version`). */
  get id(): number {
    return this.versionId;
  }

  /** True when the server could not be reached and this is the last good copy. */
  get stale(): boolean {
    return this.source === "stale";
  }

  get text(): string {
    return this.content;
  }

  /** The include tags of its content, in order (computed once per copy). */
  get includeRefs(): IncludeRef[] {
    if (this.#refs === null) {
      this.#refs = this.content.includes("{{") ? includes(this.kind, this.content) : [];
    }
    return this.#refs;
  }

  /** A copy with these include texts (or that says why it has none); this one is unchanged. */
  withIncludes(texts: IncludeTexts): ActivePrompt {
    const copy = new ActivePrompt(this, this.source, this.etag, this.#reporter, texts, this.#label, this.#arm);
    copy.#refs = this.#refs;
    return copy;
  }

  /** The filled template: a string (text) or a list of messages (chat), as OpenAI's
   * `messages` takes it. A missing variable throws `MissingVariables` naming them all. */
  render(variables: Variables = {}): string | Message[] {
    return renderedValue(this.rendered(variables));
  }

  renderAnthropic(variables: Variables = {}): AnthropicArgs {
    return anthropic(this.rendered(variables));
  }

  /** A copy of this version under a rollout's arm (null: none), for the same label. */
  withArm(arm: Arm | null): ActivePrompt {
    const copy = new ActivePrompt(this, this.source, this.etag, this.#reporter, this.#includes, this.#label, arm);
    copy.#refs = this.#refs;
    return copy;
  }

  /** The arm of the rollout that chose this version (null: no rollout chose it). */
  get arm(): Arm | null {
    return this.#arm;
  }

  /** Name this prompt, its version, its label and its rollout arm on `span` (by default the
   * current one, if recording): `getActive` and `render` call it. A fallback claims no
   * version and no arm. */
  annotate(span: otel.SpanLike | null = otel.recordingSpan()): void {
    if (span === null) return;
    const fallback = this.source === "fallback";
    otel.annotate(span, this.promptName, fallback ? null : this.versionId, this.#label, fallback ? null : this.#arm);
  }

  rendered(variables: Variables): Rendered {
    this.annotate();
    checkVariables(this.contract, variables);
    const refs = this.includeRefs;
    if (refs.length === 0) return render(this.kind, this.templateFormat, this.content, variables);
    const texts = this.#includes?.texts ?? null;
    if (texts === null) {
      const why = this.#includes?.error ?? "not fetched (not handed out by a client)";
      throw new TemplateInvalid(
        `{{> ${String(refs[0])}}}: its includes could not be resolved here (${why}): ` +
          "render it on the server (client.render)",
      );
    }
    const resolve = (ref: IncludeRef): string => {
      const text = texts.get(String(ref));
      if (text === undefined) throw new TemplateInvalid(`{{> ${String(ref)}}}: its text was not fetched`);
      return text;
    };
    return render(this.kind, this.templateFormat, this.content, variables, {
      resolve,
      path: [this.promptName],
    });
  }

  /**
   * Report how a call with this version went (POST /outcomes, batched in the background).
   * Never blocks and never throws: false when not queued (the queue is full, a value is out
   * of range, or this is the fallback, which has no version). `client.outcomeStats` counts.
   */
  report(measures: Measures = {}): boolean {
    if (this.#reporter === null || this.source === "fallback") return false;
    try {
      const tags = measures.tags;
      if (this.#arm !== null && this.#label !== null && (tags === undefined || !Object.hasOwn(tags, "label"))) {
        measures = { ...measures, tags: { ...tags, label: this.#label } };
      }
      return this.#reporter(this.promptId, this.versionId, measures);
    } catch {
      return false;
    }
  }
}

/** One version in full (`getVersion`, `createVersion`): renders itself; includes need the
 * server (`client.render`), since a version read this way has none resolved. */
export class Version implements VersionFields {
  readonly id!: number;
  readonly promptId!: number;
  readonly number!: number;
  readonly versionName!: string;
  readonly description!: string;
  readonly createdAt!: string;
  readonly createdBy!: string;
  readonly contentHash!: string;
  readonly active!: boolean;
  readonly archived!: boolean;
  readonly archivedAt!: string | null;
  readonly purged!: boolean;
  readonly purgedAt!: string | null;
  readonly purgedBy!: string | null;
  readonly purgeReason!: string | null;
  readonly kind!: Kind;
  readonly templateFormat!: TemplateFormat;
  readonly content!: string | null;
  readonly messages!: Message[] | null;
  readonly variables!: string[] | null;
  readonly modelConfig!: ModelConfig | null;
  readonly previousVersionId!: number | null;
  readonly contract?: unknown;

  constructor(fields: VersionFields) {
    Object.assign(this, fields);
    Object.freeze(this);
  }

  render(variables: Variables = {}): string | Message[] {
    return renderedValue(this.rendered(variables));
  }

  renderAnthropic(variables: Variables = {}): AnthropicArgs {
    return anthropic(this.rendered(variables));
  }

  rendered(variables: Variables): Rendered {
    if (this.content === null) throw new VersionUnavailable("this version was purged: nothing to render");
    checkVariables(this.contract, variables);
    return render(this.kind, this.templateFormat, this.content, variables);
  }
}
