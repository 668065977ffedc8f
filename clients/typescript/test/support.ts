/**
 * Test support: a real `promptdeck serve` on a free loopback port with a fresh SQLite file
 * (as tests/support/server.py starts one), a clock moved by hand, a fetch that records what
 * went over the wire, and polling without timed assertions.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { Fetch, FetchInit, FetchResponse } from "promptdeck";

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository's root (this file runs from clients/typescript/build/test/). */
export const REPO = resolve(HERE, "..", "..", "..", "..");
export const PYTHON_BIN = process.env["PROMPTDECK_VENV_BIN"] ?? join(REPO, ".venv", "bin");

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export function pause(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}

/** A server process on `database`; `stop`, `kill` and `start` again on the same port. */
export class Server {
  proc: ChildProcess | null = null;
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly database: string,
    readonly shared = false,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /**
   * The server scripts/test-ts.sh started for every test file (PROMPTDECK_TEST_URL, with its
   * PROMPTDECK_TEST_DATABASE), or one of this file's own: a start costs seconds of Python.
   */
  static async shared(): Promise<Server> {
    const url = process.env["PROMPTDECK_TEST_URL"];
    const database = process.env["PROMPTDECK_TEST_DATABASE"];
    if (url && database) return new Server(Number(new URL(url).port), database, true);
    return Server.start();
  }

  /** A server on a new SQLite file (or on `database`, shared with another server). */
  static async start(database?: string): Promise<Server> {
    const db = database ?? join(mkdtempSync(join(tmpdir(), "promptdeck-ts-")), "db.sqlite");
    const server = new Server(await freePort(), db);
    await server.start();
    return server;
  }

  async start(timeoutS = 60): Promise<void> {
    const bin = join(PYTHON_BIN, "promptdeck");
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/test.sh (it makes .venv) first`);
    const args = ["serve", "--port", String(this.port), "--database-url", `sqlite:///${this.database}`];
    const proc = spawn(bin, [...args, "--log-level", "warning"], { stdio: "ignore", detached: true });
    this.proc = proc;
    const started = Date.now();
    while (Date.now() - started < timeoutS * 1000) {
      if (proc.exitCode !== null) throw new Error(`promptdeck serve exited with ${proc.exitCode}`);
      try {
        const answer = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (answer.status === 200) return;
      } catch {
        // not up yet
      }
      await pause(100);
    }
    await this.stop();
    throw new Error(`promptdeck serve did not answer within ${timeoutS} s`);
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    const exited = new Promise<void>((ok) => proc.once("exit", () => ok()));
    process.kill(-proc.pid, signal); // the whole group: uvicorn and its workers
    await exited;
  }

  /** A shutdown (SIGTERM). */
  stop(): Promise<void> {
    return this.signal("SIGTERM");
  }

  /** A crash (SIGKILL). */
  kill(): Promise<void> {
    return this.signal("SIGKILL");
  }

  /** Stop it and remove its database (unless another server shares it). */
  async close(removeDatabase = true): Promise<void> {
    if (this.shared) return;
    await this.stop();
    if (removeDatabase) rmSync(dirname(this.database), { recursive: true, force: true });
  }
}

/** A clock that moves only when told (seconds, like the client's default). */
export class FakeClock {
  constructor(public now = 1000) {}
  readonly clock = (): number => this.now;
  advance(seconds: number): void {
    this.now += seconds;
  }
}

/** A fetch that records each request (method, path with query, headers) and answer status. */
export class Recorder {
  readonly requests: Array<{ method: string; path: string; headers: Record<string, string> }> = [];
  readonly statuses: number[] = [];
  readonly fetch: Fetch = async (url: string, init: FetchInit): Promise<FetchResponse> => {
    const u = new URL(url);
    this.requests.push({ method: init.method, path: u.pathname + u.search, headers: init.headers });
    const answer = await globalThis.fetch(url, init);
    this.statuses.push(answer.status);
    return answer;
  };

  paths(): string[] {
    return this.requests.map((r) => r.path);
  }

  clear(): void {
    this.requests.length = 0;
    this.statuses.length = 0;
  }
}

/** Poll `check` until true (at most `seconds`); the milliseconds it took. */
export async function until(check: () => boolean | Promise<boolean>, what: string, seconds = 10): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > seconds * 1000) throw new Error(`not within ${seconds} s: ${what}`);
    await pause(2);
  }
  return performance.now() - started;
}

/** A raw JSON call to the server, as another program would make it. */
export async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const init: RequestInit = { method, headers: { "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const answer = await fetch(url + path, init);
  const text = await answer.text();
  if (answer.status >= 400) throw new Error(`${method} ${path}: ${answer.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

let counter = 0;
/** A fresh prompt name per test. */
export function uniqueName(stem = "p"): string {
  counter += 1;
  return `${stem}-${process.pid}-${counter}`;
}

/** Every warning a client logs, for assertions. */
export class Warnings {
  readonly messages: string[] = [];
  readonly logger = { warn: (m: string): void => void this.messages.push(m), info: (): void => {} };
}
