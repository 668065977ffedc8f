/**
 * The in-process cache behind `getActive`: TTL, 304 revalidation, stale-if-error, fallback
 * (as the Python client's `client/cache.py`), and one request in flight per version.
 *
 * An entry is what a label serves (`name`, or `name?label=staging`; the name or the id as
 * given): its version, or during the label's rollout its split and the copies of the two
 * versions fetched so far, from which each caller's key picks, here, with no request. A pushed
 * move expires the entries of its prompt and label; a pushed rollout change replaces the split.
 */

import type { Arm, Split } from "./assign.js";
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
  splits = 0; // entries given a rollout's new split pushed on GET /changes
}

type Copies = Record<Exclude<Source, "fallback">, ActivePrompt>;

/** One version's copies (by source) and the server's ETag for them. */
interface Served {
  versionId: number;
  etag: string | null; // sent back in If-None-Match
  copies: Copies;
  arm: Arm | null; // baseline or candidate, under the split its copies were made with
}

/** Which arm of `split` serves this version (null: no rollout, or neither arm). */
function armIn(split: Split | null, versionId: number): Arm | null {
  if (split === null) return null;
  if (versionId === split.candidate) return "candidate";
  return versionId === split.baseline ? "baseline" : null;
}

/** `served` with its copies under `arm` (itself when they already are): an ETag names only
 * the version, so copies cached before a rollout (or under another) are remade with theirs. */
function underArm(served: Served, arm: Arm | null): Served {
  if (served.arm === arm) return served;
  const c = served.copies;
  const copies = { server: c.server.withArm(arm), cache: c.cache.withArm(arm), revalidated: c.revalidated.withArm(arm), stale: c.stale.withArm(arm) };
  return { ...served, copies, arm };
}

/** The label of a cache key (`name` or `name?label=staging`). */
function labelOf(key: string): string {
  const at = key.indexOf("?label=");
  return at < 0 ? "active" : key.slice(at + "?label=".length);
}

interface Entry {
  served: Served; // the last version fetched (stale-if-error's copy when the arm is unknown)
  freshUntil: number;
  split: Split | null;
  arms: Map<number, Served>; // during a rollout: the baseline's and the candidate's, once fetched
}

/** The copies for a caller with key `who` (undefined: a random arm); null: not fetched yet. */
function pick(entry: Entry, who: string | undefined): Served | null {
  if (entry.split === null) return entry.served;
  return entry.arms.get(entry.split.pick(who)) ?? null;
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

/** How an answer of GET …/active is stored: the label's split it carried, the version the
 * request's If-None-Match named (for a 304), the label (on the span; tagging outcomes during
 * a rollout). */
export interface Stored {
  split: Split | null;
  sent: number | null;
  label: string;
}

export class ActiveCache {
  readonly stats = new CacheStats();
  readonly entries = new Map<string, Entry>();
  readonly downUntil = new Map<string, number>();
  /** Given to every copy, so that `prompt.report` reaches its client's outcome queue. */
  reporter: Reporter | null = null;
  // Push: `pushes` counts pushed changes; `moved[key]` is the count at its last one, so that
  // a fetch that started before a change cannot store its answer as fresh.
  pushes = 0;
  private readonly moved = new Map<string, number>();
  private movedAll = -1;
  readonly maxEntries: number;

  constructor(readonly options: CacheOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  get clock(): Clock {
    return this.options.clock;
  }

  /** The fresh copy for a caller with key `who` (during a rollout, its arm's). */
  fresh(key: string, who?: string): ActivePrompt | null {
    const entry = this.entries.get(key);
    if (entry !== undefined && this.options.clock() < entry.freshUntil) {
      const served = pick(entry, who);
      if (served !== null) {
        this.stats.hits += 1;
        return served.copies.cache;
      }
    }
    return null;
  }

  stale(key: string, who?: string): ActivePrompt | null {
    const entry = this.entries.get(key);
    return entry === undefined ? null : (pick(entry, who) ?? entry.served).copies.stale;
  }

  /** The ETag to send in If-None-Match for a caller with key `who`, and the version it names. */
  sent(key: string, who?: string): [string | null, number | null] {
    const entry = this.entries.get(key);
    const served = entry === undefined ? null : pick(entry, who);
    return served === null ? [null, null] : [served.etag, served.versionId];
  }

  etag(key: string): string | null {
    return this.entries.get(key)?.served.etag ?? null;
  }

  /** Which fetches may be shared: those for the same version. During a rollout, keys on one
   * arm share one; before the first answer, each key its own (it may be on either arm). */
  flight(key: string, who?: string): string {
    const entry = this.entries.get(key);
    if (entry === undefined) return who === undefined ? key : `${key}\0${who}`;
    if (entry.split === null) return key;
    return `${key}@${entry.split.pick(who)}`;
  }

  /** The fallback, without asking, while a recent failure says the server is down. */
  coldFallback(key: string, name: string, fallback: string | undefined, config: ModelConfig | undefined): ActivePrompt | null {
    if (fallback === undefined || this.options.clock() >= (this.downUntil.get(key) ?? 0)) return null;
    return this.fallback(key, name, fallback, config);
  }

  /** Record a 200 (`value`) or a 304 (`value` null: the version `how.sent` named), with the
   * label's split as the answer told it, to a request sent when `pushes` was `since`: if a
   * pushed change reached the key meanwhile, the answer may predate it, so it is kept but not
   * fresh (the next call asks again). */
  store(key: string, value: ActiveFields | null, etag: string | null, since: number, how: Stored): ActivePrompt {
    const now = this.options.clock();
    let freshUntil = now + this.options.ttl;
    if (Math.max(this.moved.get(key) ?? -1, this.movedAll) > since) freshUntil = now;
    this.downUntil.delete(key);
    let entry = this.entries.get(key);
    let served: Served | undefined;
    let source: Source;
    if (value === null) {
      if (entry !== undefined) {
        served = entry.arms.get(how.sent ?? 0) ?? (entry.served.versionId === how.sent ? entry.served : undefined);
      }
      if (entry === undefined || served === undefined) {
        throw new ConnectionFailed(`unexpected 304 for '${key}' with no cached copy`);
      }
      this.stats.revalidated += 1;
      source = "revalidated";
    } else {
      const arm = armIn(how.split, value.versionId);
      const made = (s: Source): ActivePrompt => new ActivePrompt(value, s, etag, this.reporter, null, how.label, arm);
      served = {
        versionId: value.versionId,
        etag,
        copies: { server: made("server"), cache: made("cache"), revalidated: made("revalidated"), stale: made("stale") },
        arm,
      };
      if (entry === undefined) {
        if (this.entries.size >= this.maxEntries) this.drop(this.entries.keys().next().value ?? "");
        entry = { served, freshUntil, split: null, arms: new Map() };
        this.entries.set(key, entry);
      }
      this.stats.fetched += 1;
      source = "server";
    }
    entry.served = served;
    entry.freshUntil = freshUntil;
    this.setSplit(entry, how.split);
    return entry.served.copies[source];
  }

  /** The split (null: none) and the arms it keeps: the two versions', no others, their copies
   * under their arm of this split (whether the server answered or a key is assigned here). */
  private setSplit(entry: Entry, split: Split | null): void {
    entry.split = split;
    entry.served = underArm(entry.served, armIn(split, entry.served.versionId));
    if (split === null) {
      entry.arms.clear();
      return;
    }
    for (const [version, served] of entry.arms) {
      if (version !== split.baseline && version !== split.candidate) entry.arms.delete(version);
      else entry.arms.set(version, underArm(served, armIn(split, version)));
    }
    const { served } = entry;
    if (served.versionId === split.baseline || served.versionId === split.candidate) {
      entry.arms.set(served.versionId, served);
    }
  }

  private pushed(key: string): void {
    // Only fetches in flight read it: bounded, its oldest keys dropped.
    this.moved.delete(key);
    this.moved.set(key, this.pushes);
    if (this.moved.size > this.maxEntries) this.moved.delete(this.moved.keys().next().value ?? "");
  }

  /** A pushed move: the next `getActive` of these keys (null: of every key) asks the server
   * (with If-None-Match: a 304 if the version did not change after all). The copies stay,
   * for stale-if-error while the server is down. */
  expire(keys: readonly string[] | null): void {
    this.pushes += 1;
    if (keys === null) {
      this.movedAll = this.pushes;
      for (const entry of this.entries.values()) this.expireEntry(entry);
      return;
    }
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry !== undefined) this.expireEntry(entry);
      this.pushed(key);
    }
  }

  /** A pushed change of a running rollout (started, advanced, paused, resumed): its split, so
   * that each key picks its arm here from now on; a key whose arm is not cached yet asks the
   * server. The label's own version does not move during a rollout: nothing expires. */
  split(keys: readonly string[], split: Split): void {
    this.pushes += 1;
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry !== undefined && !split.same(entry.split)) {
        this.setSplit(entry, split);
        this.stats.splits += 1;
      }
      this.pushed(key);
    }
  }

  private expireEntry(entry: Entry): void {
    entry.freshUntil = -Infinity;
    this.stats.pushed += 1;
  }

  /** What to return when a fetch failed with `exc` (for a caller with key `who`); throws
   * when nothing can be. */
  failed(
    key: string,
    name: string,
    exc: PromptdeckError,
    fallback: string | undefined,
    config: ModelConfig | undefined,
    who?: string,
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
      return (pick(entry, who) ?? entry.served).copies.stale;
    }
    if (fallback !== undefined) {
      this.downUntil.set(key, now + this.options.retryAfter);
      this.options.warn(`promptdeck: serving the fallback for '${key}': ${exc.detail}`);
      return this.fallback(key, name, fallback, config);
    }
    throw exc;
  }

  private fallback(key: string, name: string, content: string, config: ModelConfig | undefined): ActivePrompt {
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
    return new ActivePrompt(fields, "fallback", null, this.reporter, null, labelOf(key));
  }

  private drop(key: string): void {
    this.entries.delete(key);
    this.downUntil.delete(key);
  }

  /** Forget one key, or everything. */
  clear(key?: string): void {
    if (key === undefined) {
      this.entries.clear();
      this.downUntil.clear();
      return;
    }
    this.drop(key);
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
