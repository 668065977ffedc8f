/**
 * The in-process cache behind `getActive`: TTL, 304 revalidation, stale-if-error, fallback
 * (as the Python client's `client/cache.py`), and one request in flight per key.
 *
 * Keys: `name` (or the id as given), `name?label=staging` for a label, and with a rollout
 * `key` the same followed by a NUL and the key; a pushed move expires every key of its prompt
 * and label (its "base"), whatever the rollout key.
 */

import { ConnectionFailed, NotFound, PromptdeckError, ServerError } from "./errors.js";
import { ActivePrompt, type Reporter, type Source } from "./versions.js";
import type { ActiveFields, ModelConfig } from "./wire.js";

/** Seconds from any fixed point; tests pass a clock they move by hand. */
export type Clock = () => number;
export type Warn = (message: string) => void;

export const monotonic: Clock = () => performance.now() / 1000;
const EPOCH = "1970-01-01T00:00:00Z";

/** Counters, for tests and metrics. */
export class CacheStats {
  hits = 0;
  fetched = 0; // 200 answers
  revalidated = 0; // 304 answers
  stale = 0; // served the last good copy after a failure
  fallbacks = 0;
  pushed = 0; // entries expired by a move pushed on GET /changes (subscribe)
}

interface Entry {
  base: string;
  etag: string | null; // the server's ETag header, sent back in If-None-Match
  freshUntil: number;
  copies: Record<Exclude<Source, "fallback">, ActivePrompt>;
}

export interface CacheOptions {
  ttl: number;
  /** After a failure, the stale copy (or fallback) is served this long before the next try,
   * so a dead server costs one timeout per key per period, not one per call. */
  retryAfter: number;
  clock: Clock;
  warn: Warn;
  maxEntries?: number;
}

export class ActiveCache {
  readonly stats = new CacheStats();
  readonly entries = new Map<string, Entry>();
  readonly downUntil = new Map<string, number>();
  /** Given to every copy, so that `prompt.report` reaches its client's outcome queue. */
  reporter: Reporter | null = null;
  // Push: `pushes` counts expiries; `moved[base]` is the count at its last one, so that a
  // fetch that started before a move cannot store its answer as fresh.
  pushes = 0;
  private readonly moved = new Map<string, number>();
  private movedAll = -1;
  private keyed = 0; // entries with a rollout key (a move then scans for its base)
  readonly maxEntries: number;

  constructor(readonly options: CacheOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  get clock(): Clock {
    return this.options.clock;
  }

  fresh(key: string): ActivePrompt | null {
    const entry = this.entries.get(key);
    if (entry !== undefined && this.options.clock() < entry.freshUntil) {
      this.stats.hits += 1;
      return entry.copies.cache;
    }
    return null;
  }

  stale(key: string): ActivePrompt | null {
    return this.entries.get(key)?.copies.stale ?? null;
  }

  etag(key: string): string | null {
    return this.entries.get(key)?.etag ?? null;
  }

  /** The fallback, without asking, while a recent failure says the server is down. */
  coldFallback(key: string, name: string, fallback: string | undefined, config: ModelConfig | undefined): ActivePrompt | null {
    if (fallback === undefined || this.options.clock() >= (this.downUntil.get(key) ?? 0)) return null;
    return this.fallback(name, fallback, config);
  }

  /** Record a 200 (`value`) or a 304 (`value` null) to a request sent when `pushes` was
   * `since`: if a pushed move expired the key meanwhile, the answer may predate the move,
   * so it is kept but not fresh (the next call asks again). */
  store(key: string, base: string, value: ActiveFields | null, etag: string | null, since: number): ActivePrompt {
    const now = this.options.clock();
    let freshUntil = now + this.options.ttl;
    if (Math.max(this.moved.get(base) ?? -1, this.movedAll) > since) freshUntil = now;
    this.downUntil.delete(key);
    const entry = this.entries.get(key);
    if (value === null) {
      if (entry === undefined) throw new ConnectionFailed(`unexpected 304 for '${key}' with no cached copy`);
      entry.freshUntil = freshUntil;
      this.stats.revalidated += 1;
      return entry.copies.revalidated;
    }
    const made = (source: Source): ActivePrompt => new ActivePrompt(value, source, etag, this.reporter);
    const copies = {
      server: made("server"),
      cache: made("cache"),
      revalidated: made("revalidated"),
      stale: made("stale"),
    };
    if (entry === undefined) {
      if (this.entries.size >= this.maxEntries) this.drop(this.entries.keys().next().value ?? "");
      if (key !== base) this.keyed += 1;
    }
    this.entries.set(key, { base, etag, freshUntil, copies });
    this.stats.fetched += 1;
    return copies.server;
  }

  /** A pushed move: the next `getActive` of these bases (null: of every key) asks the server
   * (with If-None-Match: a 304 if the version did not change after all). The copies stay,
   * for stale-if-error while the server is down. */
  expire(bases: readonly string[] | null): void {
    this.pushes += 1;
    if (bases === null) {
      this.movedAll = this.pushes;
      for (const entry of this.entries.values()) this.expireEntry(entry);
      return;
    }
    for (const base of bases) {
      const entry = this.entries.get(base);
      if (entry !== undefined) this.expireEntry(entry);
      // Only fetches in flight read it: bounded, its oldest keys dropped.
      this.moved.delete(base);
      this.moved.set(base, this.pushes);
      if (this.moved.size > this.maxEntries) this.moved.delete(this.moved.keys().next().value ?? "");
    }
    if (this.keyed > 0) {
      const wanted = new Set(bases);
      for (const [key, entry] of this.entries) {
        if (key !== entry.base && wanted.has(entry.base)) this.expireEntry(entry);
      }
    }
  }

  private expireEntry(entry: Entry): void {
    entry.freshUntil = -Infinity;
    this.stats.pushed += 1;
  }

  /** What to return when a fetch failed with `exc`; throws when nothing can be. */
  failed(
    key: string,
    name: string,
    exc: PromptdeckError,
    fallback: string | undefined,
    config: ModelConfig | undefined,
  ): ActivePrompt {
    if (exc instanceof NotFound) {
      this.drop(key);
      throw exc;
    }
    if (!(exc instanceof ConnectionFailed || exc instanceof ServerError)) throw exc;
    const now = this.options.clock();
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.freshUntil = now + this.options.retryAfter;
      this.stats.stale += 1;
      this.options.warn(`promptdeck: serving the last good copy of '${key}': ${exc.detail}`);
      return entry.copies.stale;
    }
    if (fallback !== undefined) {
      this.downUntil.set(key, now + this.options.retryAfter);
      this.options.warn(`promptdeck: serving the fallback for '${key}': ${exc.detail}`);
      return this.fallback(name, fallback, config);
    }
    throw exc;
  }

  private fallback(name: string, content: string, config: ModelConfig | undefined): ActivePrompt {
    this.stats.fallbacks += 1;
    const fields: ActiveFields = {
      promptId: 0,
      promptName: name,
      versionId: 0,
      number: 0,
      versionName: "fallback",
      description: "fallback content given to getActive",
      content,
      modelConfig: config ?? {},
      contentHash: "",
      createdAt: EPOCH,
      createdBy: "",
      kind: "text",
      templateFormat: "plain",
      messages: null,
    };
    return new ActivePrompt(fields, "fallback", null, this.reporter);
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined && key !== entry.base) this.keyed -= 1;
    this.entries.delete(key);
    this.downUntil.delete(key);
  }

  /** Forget one key (with its rollout variants' base), or everything. */
  clear(key?: string): void {
    if (key === undefined) {
      this.entries.clear();
      this.downUntil.clear();
      this.keyed = 0;
      return;
    }
    for (const [k, entry] of [...this.entries]) {
      if (k === key || entry.base === key) this.drop(k);
    }
  }
}

/** One request per key in flight: the first caller fetches; the others get `busy()` (the
 * stale copy) when there is one, else wait for the first caller's answer. */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  async run(key: string, fetch: () => Promise<T>, busy: () => T | null): Promise<T> {
    const running = this.inflight.get(key);
    if (running !== undefined) return busy() ?? running;
    const promise = fetch();
    this.inflight.set(key, promise);
    try {
      return await promise;
    } finally {
      this.inflight.delete(key);
    }
  }
}
