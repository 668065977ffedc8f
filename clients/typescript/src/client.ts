/**
 * `Client`: a promptdeck server, from JavaScript. The hot path (`getActive`: the in-process
 * cache, 304 revalidation, the last good copy, the fallback, one request per key, pushed
 * moves) and outcome reporting; every other operation is in `operations.ts`.
 */

import * as otel from "./otel.js";
import { checkKey } from "./assign.js";
import { ActiveCache, CacheStats, monotonic, SingleFlight, type Clock, type Warn } from "./cache.js";
import { Changes, ChangesState } from "./changes.js";
import { PromptdeckError, TemplateInvalid } from "./errors.js";
import { DEFAULT_URL, Transport, USER_AGENT, type Fetch } from "./http.js";
import { Operations } from "./operations.js";
import type { PromptRef } from "./options.js";
import * as ops from "./ops.js";
import { OutcomeQueue, type Measures, type OutcomeStats } from "./outcomes.js";
import { Reporter } from "./reporter.js";
import { INCLUDES_MAX, includes, renderedValue, type IncludeRef, type Message, type Variables } from "./templates.js";
import type { ActivePrompt } from "./versions.js";
import type { ModelConfig } from "./wire.js";

/** Where warnings (the last good copy served, the stream down) and notices go. */
export interface Logger {
  warn(message: string): void;
  info?(message: string): void;
}

export interface ClientOptions {
  /** Default http://127.0.0.1:8000. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer …`. */
  apiKey?: string;
  /** Recorded as who made each change (X-Actor). */
  actor?: string;
  /** Seconds per request (5). */
  timeout?: number;
  /** Bounded retries with exponential backoff and jitter (2, from 0.1 s). */
  retries?: number;
  backoff?: number;
  /** getActive: seconds a copy is used without asking the server (10). */
  cacheTtl?: number;
  /** getActive: after a failure, seconds before the server is tried again (5). */
  retryAfter?: number;
  /** getActive: seconds per try, so a hung server stalls no one long (2). */
  activeTimeout?: number;
  /** Follow GET /changes from the first getActive: true (every prompt) or prompt names. */
  subscribe?: boolean | string | readonly string[];
  /** Seconds from any fixed point, for the TTLs (default `performance.now() / 1000`). */
  clock?: Clock;
  /** The `fetch` to use (default the global one). */
  fetch?: Fetch;
  /** Default: warnings on `console.warn`, notices dropped; null: silent. */
  logger?: Logger | null;
  outcomeQueueSize?: number;
  outcomeBatchSize?: number;
  /** Seconds the outcome sender pauses when the queue is empty (1). */
  outcomeInterval?: number;
  /** Fallback content by prompt (as given to getActive): what `fallback` is when a call
   * gives none. */
  fallbacks?: Readonly<Record<string, string>>;
}

export interface GetActiveOptions {
  /** What a label serves (`production`, `staging`…) instead of the active version. */
  label?: string;
  /** The caller's sticky key (a user id, a session id): during the label's rollout it picks
   * the baseline or the candidate, here, from the cached split (the same version the server
   * gives that key); without one, each call draws an arm. Sent as `?key=` when the client
   * asks the server. Unicode text of at most 512 bytes in UTF-8 (else InvalidInput). */
  key?: string;
  /** Served (version id 0) when there is no copy yet and the server cannot be reached. */
  fallback?: string;
  fallbackModelConfig?: ModelConfig;
}

interface Pinned {
  promptName: string;
  versionId: number;
  kind: string;
  content: string | null;
}

/** Versions that includes pin (by number or version name): immutable, kept for good. */
export class PinnedCache {
  readonly versions = new Map<number, Pinned>();
  readonly targets = new Map<number, Map<string, number | null>>();
  constructor(readonly maxEntries = 4096) {}

  putVersion(pinned: Pinned): void {
    if (this.versions.size >= this.maxEntries) this.versions.delete(this.versions.keys().next().value ?? 0);
    this.versions.set(pinned.versionId, pinned);
  }

  putTargets(versionId: number, targets: Map<string, number | null>): void {
    if (this.targets.size >= this.maxEntries) this.targets.delete(this.targets.keys().next().value ?? 0);
    this.targets.set(versionId, targets);
  }
}

function subscribed(subscribe: ClientOptions["subscribe"]): readonly string[] | null | false {
  if (subscribe === undefined || subscribe === false) return false;
  if (subscribe === true) return null;
  const names = typeof subscribe === "string" ? [subscribe] : [...subscribe];
  return names.length > 0 ? names : null;
}

/**
 * A promptdeck server. Every method throws the server's error as the matching class
 * (`PromptNotFound`, `VersionNameTaken`, `PreconditionFailed`…) with the problem's `status`,
 * `title`, `detail`, `field`; a server that cannot be reached `ConnectionFailed`, a 5xx
 * `ServerError`, after `retries` retries with backoff. Call `close()` when done: it sends the
 * outcomes still queued and stops the push stream.
 */
export class Client extends Operations {
  readonly baseUrl: string;
  readonly cache: ActiveCache;
  readonly pinned = new PinnedCache();
  /** The push stream's state (`connected`, `lastEventId`, `moves`); null without `subscribe`. */
  readonly changes: Changes | null = null;
  readonly outcomes: OutcomeQueue;
  private readonly reporter: Reporter;
  private readonly flight = new SingleFlight<ActivePrompt>();
  private readonly activeTimeout: number;
  private readonly fallbacks: Readonly<Record<string, string>>;

  constructor(options: ClientOptions = {}) {
    const baseUrl = (options.baseUrl ?? DEFAULT_URL).replace(/\/+$/, "");
    const headers: Record<string, string> = { "User-Agent": USER_AGENT, Accept: "application/json" };
    if (options.apiKey) headers["Authorization"] = `Bearer ${options.apiKey}`;
    if (options.actor) headers["X-Actor"] = options.actor;
    const fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    const timeout = options.timeout ?? 5.0;
    super(
      new Transport({
        baseUrl,
        headers,
        timeout,
        retries: options.retries ?? 2,
        backoff: options.backoff ?? 0.1,
        fetch,
      }),
    );
    this.baseUrl = baseUrl;
    this.activeTimeout = options.activeTimeout ?? 2.0;
    this.fallbacks = options.fallbacks ?? {};
    const logger = options.logger === undefined ? { warn: (m: string) => console.warn(m) } : options.logger;
    const warn: Warn = (m) => logger?.warn(m);
    const info: Warn = (m) => logger?.info?.(m);
    this.cache = new ActiveCache({
      ttl: options.cacheTtl ?? 10.0,
      retryAfter: options.retryAfter ?? 5.0,
      clock: options.clock ?? monotonic,
      warn,
    });
    const names = subscribed(options.subscribe);
    if (names !== false) {
      const state = new ChangesState(this.cache, names, warn, info);
      this.changes = new Changes(state, baseUrl, headers, fetch);
    }
    this.outcomes = new OutcomeQueue(options.outcomeQueueSize ?? 10_000, options.outcomeBatchSize ?? 500, warn);
    this.reporter = new Reporter(
      this.outcomes,
      (batch) => this.send(ops.reportOutcomes(batch, timeout)),
      options.outcomeInterval ?? 1.0,
      warn,
    );
    this.cache.reporter = (prompt, versionId, measures) => this.report(prompt, versionId, measures);
  }

  /** Send the outcomes still queued, stop the push stream. */
  async close(): Promise<void> {
    await this.reporter.close();
    await this.changes?.stop();
  }

  get stats(): CacheStats {
    return this.cache.stats;
  }

  // --- the hot path -------------------------------------------------------------------------

  /**
   * The prompt's active version (or what `label` serves), for production use.
   *
   * Served from the in-process cache while younger than `cacheTtl`; then revalidated with
   * If-None-Match (a 304 renews it without a body). When the server is down, slow or failing,
   * the last good copy is served (`stale: true`) and a warning logged; with no copy,
   * `fallback` (if given). One request per prompt is in flight however many callers miss at
   * once. A deleted prompt throws `PromptNotFound`. With `subscribe`, a pushed move expires
   * the copy at once.
   */
  getActive(prompt: PromptRef, options: GetActiveOptions = {}): Promise<ActivePrompt> {
    let hit: ActivePrompt | null;
    try {
      hit = this.hit(prompt, options);
    } catch (exc) {
      return Promise.reject(exc as Error); // a key the server would refuse
    }
    const span = otel.recordingSpan(); // the caller's span, taken now (src/otel.ts)
    // A fresh copy without includes (the common case): no await, no copy.
    if (hit !== null && hit.includeRefs.length === 0) {
      if (span !== null) hit.annotate(span);
      return Promise.resolve(hit);
    }
    const found = this.active(prompt, options, hit).then((top) => this.withIncludes(top, options.key));
    return span === null ? found : found.then((p) => {
      p.annotate(span);
      return p;
    });
  }

  /** The cache's key (what a label serves: one entry for every caller's key) and the label. */
  private keys(prompt: PromptRef, options: GetActiveOptions): [string, string | undefined] {
    const label = options.label === "active" ? undefined : options.label;
    return [label === undefined ? String(prompt) : `${prompt}?label=${label}`, label];
  }

  private hit(prompt: PromptRef, options: GetActiveOptions): ActivePrompt | null {
    if (options.key !== undefined) checkKey(options.key); // refused as the server would, rollout or not
    this.changes?.start(); // once; the stream then runs in the background
    return this.cache.fresh(this.keys(prompt, options)[0], options.key);
  }

  private active(prompt: PromptRef, options: GetActiveOptions, hit?: ActivePrompt | null): Promise<ActivePrompt> {
    if (hit === undefined) hit = this.hit(prompt, options);
    if (hit !== null) return Promise.resolve(hit);
    const [key, label] = this.keys(prompt, options);
    // Someone already asking for the same version? Serve the last copy now if there is one,
    // else wait.
    return this.flight.run(
      this.cache.flight(key, options.key),
      () => this.refresh(key, prompt, label, options),
      () => this.cache.stale(key, options.key),
    );
  }

  private async refresh(
    key: string,
    prompt: PromptRef,
    label: string | undefined,
    options: GetActiveOptions,
  ): Promise<ActivePrompt> {
    const who = options.key;
    const hit = this.cache.fresh(key, who); // another caller may have just refreshed it
    if (hit !== null) return hit;
    const { fallbackModelConfig } = options;
    const given = this.fallbacks[String(prompt)];
    const fallback = options.fallback ?? (Object.hasOwn(this.fallbacks, String(prompt)) ? given : undefined);
    const cold = this.cache.coldFallback(key, String(prompt), fallback, fallbackModelConfig);
    if (cold !== null) return cold;
    const since = this.cache.pushes; // a change pushed during the request: its answer is not fresh
    const [etag, sent] = this.cache.sent(key, who);
    let answer;
    try {
      answer = await this.send(ops.fetchActive(prompt, etag, { label, key: who }, this.activeTimeout));
    } catch (exc) {
      if (!(exc instanceof PromptdeckError)) throw exc;
      return this.cache.failed(key, String(prompt), exc, fallback, fallbackModelConfig, who);
    }
    return this.cache.store(key, answer.value, answer.etag, since, { split: answer.split, sent, label: label ?? "active" });
  }

  /** `top` with the texts of its includes (transitively), so that its `render` needs no
   * request: an include by label (or of the active version) through the same cache as
   * `getActive`; one pinned to a version number or name fetched once and kept for good. One
   * that cannot be resolved now leaves the copy without them: its `render` says why. */
  private async withIncludes(top: ActivePrompt, who: string | undefined): Promise<ActivePrompt> {
    if (top.source === "fallback" || top.includeRefs.length === 0) return top;
    const texts = new Map<string, string>();
    const pending: Array<[string, number, IncludeRef[]]> = [[top.promptName, top.versionId, top.includeRefs]];
    try {
      for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
        const [name, versionId, refs] = next;
        for (const ref of refs) {
          if (texts.has(String(ref))) continue;
          if (texts.size >= INCLUDES_MAX) throw new TemplateInvalid(`more than ${INCLUDES_MAX} includes`);
          const included = await this.include(name, versionId, ref, who);
          if (included.kind !== "text") {
            throw new TemplateInvalid(`{{> ${String(ref)}}}: only text prompts can be included`);
          }
          if (included.content === null) throw new TemplateInvalid(`{{> ${String(ref)}}}: that version was purged`);
          texts.set(String(ref), included.content);
          const nested = includes("text", included.content);
          if (nested.length > 0) pending.push([included.promptName, included.versionId, nested]);
        }
      }
    } catch (exc) {
      if (!(exc instanceof PromptdeckError)) throw exc;
      return top.withIncludes({ texts: null, error: exc.detail });
    }
    return top.withIncludes({ texts, error: null });
  }

  /** What `ref`, written in version `versionId` of `prompt`, names now (for a caller with key
   * `who`: an included label in a rollout splits by it too). */
  private async include(prompt: string, versionId: number, ref: IncludeRef, who: string | undefined): Promise<Pinned> {
    if (ref.at !== null) {
      let targets = this.pinned.targets.get(versionId);
      if (targets === undefined) {
        // the version's pinned targets, resolved when it was created
        const edges = await this.send(ops.includes(prompt, versionId, "dependencies"));
        targets = new Map();
        for (const edge of edges) {
          for (const name of [edge.targetPromptName, String(edge.targetPromptId)]) {
            targets.set(`${name}@${edge.at ?? "active"}`, edge.targetVersionId);
          }
        }
        this.pinned.putTargets(versionId, targets);
      }
      const target = targets.get(`${ref.prompt}@${ref.at}`);
      if (target !== undefined && target !== null) {
        let found = this.pinned.versions.get(target);
        if (found === undefined) {
          const version = await this.send(ops.getVersion(ref.prompt, target));
          found = { promptName: ref.prompt, versionId: version.id, kind: version.kind, content: version.content };
          this.pinned.putVersion(found);
        }
        return found;
      }
      if (ref.number !== null) {
        throw new TemplateInvalid(`{{> ${String(ref)}}}: '${ref.prompt}' has no version ${ref.at}`);
      }
    }
    const options: GetActiveOptions = ref.label === "active" ? {} : { label: ref.label };
    if (who !== undefined) options.key = who;
    const active = await this.active(ref.prompt, options);
    return { promptName: active.promptName, versionId: active.versionId, kind: active.kind, content: active.content };
  }

  /**
   * `(await getActive(prompt)).render(variables)`: rendered here from the cache, includes too.
   * A Jinja version is rendered by the server instead (that very version), since this client
   * renders plain templates only.
   */
  async renderActive(
    prompt: PromptRef,
    variables: Variables,
    options: Omit<GetActiveOptions, "fallback" | "fallbackModelConfig"> = {},
  ): Promise<string | Message[]> {
    const active = await this.getActive(prompt, options);
    if (active.templateFormat !== "jinja") return active.render(variables);
    const out = await this.render(prompt, variables, { version: String(active.number) });
    return renderedValue({ kind: out.kind, text: out.text, messages: out.messages, unused: [] });
  }

  override async deletePrompt(prompt: PromptRef, options: { ifMatch?: string; force?: boolean } = {}): Promise<void> {
    await super.deletePrompt(prompt, options);
    this.cache.clear(String(prompt));
  }

  // --- outcomes -----------------------------------------------------------------------------

  /**
   * Report a call of a version (as `prompt.report` does for what `getActive` returned):
   * queued and sent in batches in the background; never blocks or throws; false when not
   * queued (the queue is full, a value out of range: `outcomeStats` counts).
   */
  report(prompt: PromptRef, versionId: number, measures: Measures = {}): boolean {
    try {
      const queued = this.outcomes.put(prompt, versionId, measures);
      if (queued) this.reporter.kick();
      return queued;
    } catch {
      return false;
    }
  }

  /** Outcomes queued, sent, dropped (queue full), invalid and failed. */
  get outcomeStats(): OutcomeStats {
    return this.outcomes.stats;
  }

  /** Send every queued outcome now; afterwards the server has counted every outcome
   * reported before the call (or `outcomeStats.failed` counts it). */
  async flushOutcomes(): Promise<void> {
    await this.reporter.flush();
  }
}
