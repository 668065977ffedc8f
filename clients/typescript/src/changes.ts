/**
 * `subscribe`: follows GET /changes (Server-Sent Events, read from a `fetch` stream) in the
 * background and expires the cached copies of the prompts that moved (as the Python client's
 * `client/_changes.py` and `AsyncChanges`). Reconnects after the server's `retry:` (1 s) with
 * `Last-Event-ID`, so no move is missed; an error answer backs off to 30 s; never throws.
 */

import type { ActiveCache, Warn } from "./cache.js";
import { unref, type Fetch, type FetchResponse } from "./http.js";
import { rolloutOfMove } from "./rollout-wire.js";
import { camel, type Move } from "./wire.js";

const RETRY_S = 1.0; // before reconnecting, until the server's "retry:" says otherwise
const ERROR_RETRY_MAX_S = 30.0; // an error answer (401, 404 from an old server…) backs off to this
// The server sends a heartbeat after 15 quiet seconds: a read that waits longer than this is
// a connection that died without a word (a cut cable, a suspended laptop).
export const READ_TIMEOUT_S = 45.0;

export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/** Server-Sent Events, line by line, as EventSource reads them. A block with an `id:` and
 * no data (the heartbeat) yields an event with an empty `event`: the resume point moves. */
export class SseParser {
  retryS: number | null = null;
  private event = "";
  private id: string | null = null;
  private data: string[] = [];

  feed(line: string): SseEvent[] {
    if (line === "") {
      const out: SseEvent[] = [];
      if (this.data.length > 0 || this.id !== null) {
        out.push({ event: this.data.length > 0 ? this.event : "", id: this.id, data: this.data.join("\n") });
      }
      this.event = "";
      this.id = null;
      this.data = [];
      return out;
    }
    if (line.startsWith(":")) return [];
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") this.event = value;
    else if (name === "data") this.data.push(value);
    else if (name === "id" && !value.includes("\0")) this.id = value;
    else if (name === "retry" && /^[0-9]+$/.test(value)) this.retryS = Number(value) / 1000;
    return [];
  }
}

/** Splits decoded text into lines on CRLF, LF or CR, across chunks. */
export class LineSplitter {
  private rest = "";
  private afterCr = false;

  push(text: string): string[] {
    if (this.afterCr && text.startsWith("\n")) text = text.slice(1);
    this.afterCr = false;
    const all = this.rest + text;
    const lines = all.split(/\r\n|\r|\n/);
    this.rest = lines.pop() ?? "";
    if (all.endsWith("\r")) this.afterCr = true;
    return lines;
  }
}

/** Where the stream is: the last event id seen (the resume point), and whether it is up. */
export class ChangesState {
  lastEventId: number | null = null;
  connected = false;
  moves = 0; // moves received
  retryS = RETRY_S;
  failures = 0; // error answers in a row
  private warned = false; // the outage is logged once, not at each reconnect

  constructor(
    private readonly cache: ActiveCache,
    readonly prompts: readonly string[] | null,
    private readonly warn: Warn,
    private readonly info: Warn,
  ) {}

  /** The query string and headers of the next GET /changes. */
  request(): { query: string; headers: Record<string, string> } {
    const names = this.prompts === null ? [] : [...this.prompts].sort();
    const query = names.length > 0 ? `?prompts=${encodeURIComponent(names.join(","))}` : "";
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (this.lastEventId !== null) headers["Last-Event-ID"] = String(this.lastEventId);
    return { query, headers };
  }

  /** Whether the answer is the stream; logs why not. */
  opened(status: number): boolean {
    if (status === 200) {
      this.failures = 0;
      return true;
    }
    this.failures += 1;
    if (!this.warned) {
      this.warn(`promptdeck: GET /changes answered ${status}; getActive falls back to cacheTtl`);
      this.warned = true;
    }
    return false;
  }

  /** Apply one event: a move expires its prompt's entries, then its id is kept. */
  on(event: SseEvent): void {
    if (event.event === "move") {
      const raw = JSON.parse(event.data) as unknown;
      const move = camel<Move>(raw);
      // The cache keys a prompt by what getActive was given, its name or its id, and a label
      // other than active after "?label=".
      let refs = [move.prompt, String(move.promptId)];
      if (move.label !== "active") refs = refs.map((ref) => `${ref}?label=${move.label}`);
      // A running rollout's new split is applied as is (each key picks its arm here); any
      // other move, a rollout's end included, expires the label's copies.
      const rollout = rolloutOfMove(raw);
      if (rollout !== null && "live" in rollout) this.cache.split(refs, rollout.live);
      else this.cache.expire(refs);
      this.moves += 1;
    } else if (event.event === "ready") {
      // The first connection: what was cached before it may predate the stream.
      if (this.lastEventId === null) this.cache.expire(null);
      this.info(`promptdeck: following GET /changes from event ${event.id}`);
      this.connected = true;
      this.warned = false;
    }
    if (event.id !== null && /^[0-9]+$/.test(event.id)) this.lastEventId = Number(event.id);
  }

  /** The stream ended (`error`: how); the seconds to wait before reconnecting. */
  dropped(error: unknown): number {
    if (!this.warned) {
      this.warned = true;
      const how = error === undefined ? "ended" : `failed (${String(error)})`;
      this.warn(`promptdeck: GET /changes stream ${how}; getActive falls back to cacheTtl until it is back`);
    }
    this.connected = false;
    if (this.failures > 0) return Math.min(ERROR_RETRY_MAX_S, this.retryS * 2 ** (this.failures - 1));
    return this.retryS;
  }
}

/** The reading loop: connect, read, reconnect; `stop` ends it. */
export class Changes {
  private stopping = false;
  private running: Promise<void> | null = null;
  private controller: AbortController | null = null;
  private wake: (() => void) | null = null;

  constructor(
    readonly state: ChangesState,
    private readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly fetch: Fetch,
  ) {}

  /** Start once (every getActive calls this); the loop then runs in the background. */
  start(): void {
    if (this.running === null && !this.stopping) this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.controller?.abort();
    this.wake?.();
    await this.running;
    this.state.connected = false;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let error: unknown = undefined;
      try {
        await this.follow();
      } catch (exc) {
        error = exc; // never reaches the application: logged once, then retried
      }
      if (this.stopping) return;
      await this.sleep(this.state.dropped(error));
    }
  }

  private sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      unref(timer);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async follow(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    if (this.stopping) return;
    const { query, headers } = this.state.request();
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(new Error("no data for 45 s")), READ_TIMEOUT_S * 1000);
      unref(watchdog);
    };
    arm();
    try {
      const response: FetchResponse = await this.fetch(`${this.url}/changes${query}`, {
        method: "GET",
        headers: { ...this.headers, ...headers },
        signal: controller.signal,
      });
      const reader = response.body?.getReader();
      if (!this.state.opened(response.status) || reader === undefined) {
        await reader?.cancel().catch(() => {});
        return;
      }
      const decoder = new TextDecoder();
      const lines = new LineSplitter();
      const parser = new SseParser();
      for (;;) {
        arm();
        const { done, value } = await reader.read();
        if (done) return;
        for (const line of lines.push(decoder.decode(value, { stream: true }))) {
          for (const event of parser.feed(line)) this.state.on(event);
        }
        if (parser.retryS !== null) this.state.retryS = parser.retryS;
      }
    } finally {
      clearTimeout(watchdog);
    }
  }
}
