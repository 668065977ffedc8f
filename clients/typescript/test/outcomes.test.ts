/** Outcomes: `prompt.report` batches in the background, flushes on close and when a Node
 * process's event loop empties, is bounded, and never throws into the caller. */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { Client, OutcomeQueue } from "promptdeck";

import { freePort, Recorder, Server, uniqueName } from "./support.js";

let server: Server;
before(async () => {
  server = await Server.shared();
});
after(async () => {
  await server.close();
});

async function counted(name: string): Promise<number> {
  const reader = new Client({ baseUrl: server.url });
  const impact = await reader.impact(name);
  return impact.versions.reduce((sum, v) => sum + v.count, 0);
}

test("prompt.report is sent in batches and what is left is flushed at close", async () => {
  const name = uniqueName("outcomes");
  const admin = new Client({ baseUrl: server.url });
  await admin.createPrompt(name, "hello");
  const rec = new Recorder();
  const client = new Client({ baseUrl: server.url, fetch: rec.fetch, outcomeBatchSize: 40, outcomeInterval: 60 });
  const prompt = await client.getActive(name);
  rec.clear();
  for (let i = 0; i < 100; i++) {
    assert.equal(prompt.report({ success: i % 4 !== 0, score: 0.5, latencyMs: 12.5, feedback: 1 }), true);
  }
  await client.close(); // the sender pauses 60 s between batches: close sends what is left
  assert.equal(client.outcomeStats.sent, 100);
  assert.equal(client.outcomeStats.lost, 0);
  assert.deepEqual(rec.paths(), ["/outcomes", "/outcomes", "/outcomes"]); // 40 + 40 + 20
  const impact = await admin.impact(name);
  const [version] = impact.versions;
  assert.deepEqual([version?.versionId, version?.count, version?.successRate], [prompt.versionId, 100, 0.75]);
});

test("outcomes reported while a batch is on its way go together in the next one", async () => {
  const name = uniqueName("outcomes");
  await new Client({ baseUrl: server.url }).createPrompt(name, "hello");
  const rec = new Recorder();
  const client = new Client({ baseUrl: server.url, fetch: rec.fetch, outcomeInterval: 0.05 });
  const prompt = await client.getActive(name);
  rec.clear();
  for (let i = 0; i < 10; i++) {
    for (let j = 0; j < 30; j++) prompt.report({ success: true });
    await new Promise((ok) => setTimeout(ok, 1));
  }
  await client.flushOutcomes();
  assert.equal(client.outcomeStats.sent, 300);
  assert.ok(rec.requests.length < 10, `${rec.requests.length} batches for 300 outcomes`);
  assert.equal(await counted(name), 300);
  await client.close();
});

test("a full queue refuses new outcomes and counts them", () => {
  const queue = new OutcomeQueue(5, 2);
  const results = Array.from({ length: 8 }, () => queue.put("p", 1, { success: true }));
  assert.deepEqual(results, [true, true, true, true, true, false, false, false]);
  assert.deepEqual([queue.stats.queued, queue.stats.dropped], [5, 3]);
  assert.deepEqual(
    Array.from({ length: 4 }, () => queue.take().length),
    [2, 2, 1, 0],
  );
});

test("a dead server or a bad value never throws and every outcome is accounted for", async () => {
  const client = new Client({ baseUrl: `http://127.0.0.1:${await freePort()}`, outcomeQueueSize: 5, retries: 0, logger: null });
  const results = Array.from({ length: 8 }, () => client.report("p", 1, { success: true }));
  assert.equal(client.report("p", 1, { score: 2.0 }), false); // out of range: counted, not thrown
  assert.equal(client.report("p", 1, { latencyMs: -1 }), false);
  assert.equal(client.report("p", 1.5, {}), false);
  assert.equal(client.report("p", 1, { inputTokens: 1.5 }), false);
  assert.equal(client.report("p", 1, { at: "2026-01-01T00:00:00" }), false); // no time zone
  assert.equal(client.report("p", 1, { tags: { k: "x".repeat(129) } }), false);
  assert.equal(client.report("p", 1, { succes: true } as never), false); // a typo: unknown
  await client.close();
  const stats = client.outcomeStats;
  assert.equal(stats.queued, results.filter(Boolean).length);
  assert.equal(stats.dropped, results.filter((r) => !r).length);
  assert.deepEqual([stats.invalid, stats.failed, stats.sent], [7, stats.queued, 0]);
  assert.equal(stats.lost, 15);
});

test("the fallback content has no version to report on", async () => {
  const client = new Client({ baseUrl: `http://127.0.0.1:${await freePort()}`, retries: 0, logger: null });
  const prompt = await client.getActive("missing", { fallback: "be nice" });
  assert.equal(prompt.source, "fallback");
  assert.equal(prompt.report({ success: true }), false);
  await client.close();
});

test("outcomes still queued are sent when a Node process's event loop empties, without close()", async () => {
  const name = uniqueName("outcomes");
  await new Client({ baseUrl: server.url }).createPrompt(name, "hello");
  // A script inside the package, so that it imports "promptdeck" as an application would.
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = mkdtempSync(join(here, "..", "exit-"));
  const script = join(dir, "report.mjs");
  writeFileSync(
    script,
    `import { Client } from "promptdeck";
     const client = new Client({ baseUrl: ${JSON.stringify(server.url)}, outcomeInterval: 60 });
     const prompt = await client.getActive(${JSON.stringify(name)});
     for (let i = 0; i < 50; i++) prompt.report({ success: false });
     // no close(): the queue is sent when the event loop empties (beforeExit)
    `,
  );
  try {
    execFileSync(process.execPath, [script], { timeout: 60_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(await counted(name), 50);
});
