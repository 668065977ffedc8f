/**
 * Sends what `prompt.report` queued, in batches, from the background: one POST /outcomes per
 * batch, then a pause of `interval` seconds before looking again, so that outcomes reported
 * meanwhile go together. Never throws into the caller: a batch that fails is counted
 * (`failed`) and logged. On Node, what is still queued when the event loop empties is sent
 * then (`beforeExit`); `close()` sends it in any runtime.
 */

import type { Warn } from "./cache.js";
import { unref } from "./http.js";
import type { Outcome, OutcomeQueue } from "./outcomes.js";

type Send = (batch: Outcome[]) => Promise<unknown>;

interface ProcessLike {
  on(event: "beforeExit", listener: () => void): unknown;
  off?(event: "beforeExit", listener: () => void): unknown;
  removeListener?(event: "beforeExit", listener: () => void): unknown;
}

function nodeProcess(): ProcessLike | null {
  const p = (globalThis as { process?: Partial<ProcessLike> }).process;
  return p !== undefined && typeof p.on === "function" ? (p as ProcessLike) : null;
}

export class Reporter {
  private loop: Promise<void> | null = null; // the sender, while it sends or pauses
  private timer: ReturnType<typeof setTimeout> | null = null;
  private resume: (() => void) | null = null;
  private closed = false;
  private hurry = false; // a flush waits for the sender: it ends instead of pausing
  private readonly onExit = (): void => {
    if (this.queue.length > 0) void this.flush();
  };
  private listening = false;

  constructor(
    private readonly queue: OutcomeQueue,
    private readonly send: Send,
    private readonly interval: number,
    private readonly warn: Warn,
  ) {}

  /** Something was queued: start the sender unless it runs. */
  kick(): void {
    if (!this.listening && !this.closed) {
      nodeProcess()?.on("beforeExit", this.onExit);
      this.listening = true;
    }
    if (this.loop === null) this.loop = this.run();
  }

  private async run(): Promise<void> {
    await null; // after the caller's synchronous code: outcomes reported together go together
    try {
      for (;;) {
        while (await this.sendOne()) {
          /* one batch after another while there are some */
        }
        if (this.closed || this.hurry) return;
        await this.pause();
        if (this.queue.length === 0) return;
      }
    } finally {
      this.loop = null;
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      this.resume = resolve;
      this.timer = setTimeout(resolve, this.interval * 1000);
      unref(this.timer); // a pause never keeps a process alive: beforeExit sends the rest
    });
  }

  /** Send one batch; false when the queue was empty. */
  async sendOne(): Promise<boolean> {
    const batch = this.queue.take();
    if (batch.length === 0) return false;
    try {
      await this.send(batch);
      this.queue.done(batch, true);
    } catch (exc) {
      this.queue.done(batch, false);
      this.warn(`promptdeck: ${batch.length} outcomes not reported: ${String(exc)}`);
    }
    return true;
  }

  /** Send every queued outcome now, and wait for a batch being sent: afterwards the server
   * has counted every outcome reported before the call (or `failed` counts it). */
  async flush(): Promise<void> {
    while (await this.sendOne()) {
      /* until the queue is empty */
    }
    if (this.loop !== null) {
      this.hurry = true;
      this.wakeUp();
      try {
        await this.loop;
      } finally {
        this.hurry = false;
      }
    }
  }

  private wakeUp(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.resume?.();
    this.resume = null;
  }

  /** Send what is left and stop: later reports are queued and sent by a later `flush`. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.listening) {
      const p = nodeProcess();
      (p?.off ?? p?.removeListener)?.call(p, "beforeExit", this.onExit);
      this.listening = false;
    }
    this.wakeUp();
    await this.loop;
    while (await this.sendOne()) {
      /* until the queue is empty */
    }
  }
}
