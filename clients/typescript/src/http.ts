/**
 * Requests as data (`Call`), sent with the standard `fetch`: timeouts, bounded retries with
 * backoff and jitter, a problem+json answer turned into its error class. The types below are
 * the part of `fetch` this client uses, so that the declarations need neither the DOM's nor
 * Node's types: the global `fetch` of Node 18+, Deno, Bun, browsers and edge runtimes fits.
 */

import { ConnectionFailed, errorFrom } from "./errors.js";

export const VERSION = "0.1.0";
export const DEFAULT_URL = "http://127.0.0.1:8000";
export const USER_AGENT = `promptdeck-typescript/${VERSION}`;

/** What this client passes to `fetch`. */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** The part of a `fetch` Response this client reads. */
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  readonly body: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
      cancel(reason?: unknown): Promise<void>;
    };
  } | null;
  text(): Promise<string>;
}

/** A `fetch`: the global one by default; tests and proxies pass their own. */
export type Fetch = (url: string, init: FetchInit) => Promise<FetchResponse>;

/** An answer, read whole. */
export interface Answer {
  status: number;
  headers: { get(name: string): string | null };
  /** The parsed JSON body (null when there is none). */
  json: unknown;
}

export type Params = Record<string, string | number | boolean | null | undefined>;

/** One API request and how to read its answer. */
export interface Call<T> {
  method: string;
  path: string;
  parse: (answer: Answer) => T;
  params?: Params;
  json?: unknown;
  headers?: Record<string, string>;
  /** Safe to send again after a timeout or a 5xx (reads, idempotency-keyed creates…);
   * anything is sent again when the connection could not be made at all. */
  retry?: boolean;
  ok?: readonly number[];
  /** Seconds; the client's `timeout` when not given. */
  timeout?: number;
}

export interface TransportOptions {
  baseUrl: string;
  headers: Record<string, string>;
  timeout: number;
  retries: number;
  backoff: number;
  fetch: Fetch;
}

const BACKOFF_MAX_S = 2.0;
const OK = [200, 201, 204] as const;

/** One path segment (a prompt id or name, a label), quoted as Python's `quote(safe="")`. */
export function seg(ref: string | number): string {
  return encodeURIComponent(String(ref)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function query(params: Params | undefined): string {
  if (params === undefined) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** Don't let a background timer keep a Node process alive (a no-op elsewhere). */
export function unref(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
  }
}

/** A signal that aborts after `seconds`, and a function that clears its timer. */
export function deadline(seconds: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("timed out", "TimeoutError")),
    seconds * 1000,
  );
  unref(timer);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

function refused(exc: unknown): boolean {
  // undici (Node's fetch) says why in `cause`; elsewhere nothing tells, so nothing is assumed.
  const cause = (exc as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === "ECONNREFUSED";
}

function describe(exc: unknown): string {
  if (exc instanceof Error) {
    const cause = (exc as { cause?: unknown }).cause;
    const why = cause instanceof Error ? `: ${cause.message}` : "";
    return `${exc.message}${why}`;
  }
  return String(exc);
}

export class Transport {
  constructor(readonly options: TransportOptions) {}

  private delay(attempt: number): number {
    const base = Math.min(BACKOFF_MAX_S, this.options.backoff * 2 ** attempt);
    return base * (0.5 + Math.random() / 2);
  }

  /** Send `call`, retrying as it allows; its parsed answer, or the error it names. */
  async send<T>(call: Call<T>): Promise<T> {
    const { baseUrl, retries } = this.options;
    const url = `${baseUrl}${call.path}${query(call.params)}`;
    for (let attempt = 0; ; attempt++) {
      let answer: Answer & { text: string; reason: string };
      try {
        answer = await this.once(call, url);
      } catch (exc) {
        if (attempt < retries && (call.retry === true || refused(exc))) {
          await sleep(this.delay(attempt));
          continue;
        }
        const timedOut = exc instanceof Error && exc.name === "TimeoutError";
        throw new ConnectionFailed(
          `${call.method} ${url} ${timedOut ? "timed out" : "failed"}: ${describe(exc)}`,
        );
      }
      if (attempt < retries && call.retry === true && answer.status >= 500) {
        await sleep(this.delay(attempt));
        continue;
      }
      if ((call.ok ?? OK).includes(answer.status)) return call.parse(answer);
      throw errorFrom(answer.status, answer.json, answer.text, answer.reason);
    }
  }

  private async once(call: Call<unknown>, url: string): Promise<Answer & { text: string; reason: string }> {
    const headers: Record<string, string> = { ...this.options.headers, ...call.headers };
    const init: FetchInit = { method: call.method, headers };
    if (call.json !== undefined) {
      init.body = JSON.stringify(call.json);
      headers["Content-Type"] = "application/json";
    }
    const timer = deadline(call.timeout ?? this.options.timeout);
    init.signal = timer.signal;
    try {
      const response = await this.options.fetch(url, init);
      const text = await response.text(); // within the same deadline
      let json: unknown = null;
      if (text) {
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
      }
      return { status: response.status, headers: response.headers, json, text, reason: response.statusText };
    } finally {
      timer.clear();
    }
  }
}
