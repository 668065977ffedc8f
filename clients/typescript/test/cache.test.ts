/** getActive, the hot path, against a real server: the cache, 304 revalidation, the last good
 * copy when the server stops, the fallback, one request in flight per key, labels, keys. */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Client, ConnectionFailed, InvalidInput, PromptNotFound, type ClientOptions } from "promptdeck";

import { FakeClock, freePort, Recorder, Server, uniqueName, Warnings } from "./support.js";

let server: Server;
before(async () => {
  server = await Server.shared();
});
after(async () => {
  await server.close();
});

function make(url: string, rec: Recorder, options: ClientOptions = {}): Client {
  return new Client({ baseUrl: url, fetch: rec.fetch, retries: 1, backoff: 0.01, logger: null, ...options });
}

test("getActive within the TTL is served from the cache without a request", async () => {
  const rec = new Recorder();
  const client = make(server.url, rec, { cacheTtl: 60 });
  const name = uniqueName();
  await client.createPrompt(name, "hello");
  rec.clear();
  const first = await client.getActive(name);
  const copies = await Promise.all(Array.from({ length: 50 }, () => client.getActive(name)));
  await client.close();
  assert.equal(first.source, "server");
  assert.equal(first.content, "hello");
  assert.deepEqual(new Set(copies.map((c) => c.source)), new Set(["cache"]));
  assert.deepEqual(rec.paths(), [`/prompts/${name}/active`]);
  assert.equal(client.stats.hits, 50);
  assert.equal(client.stats.fetched, 1);
});

test("the version object carries the fields applications use, camelCased, and the server's etag", async () => {
  const client = new Client({ baseUrl: server.url, logger: null });
  const name = uniqueName();
  const created = await client.createPrompt(name, "Answer {{question}}.", {
    modelConfig: { model: "gpt-4o", temperature: 0.2, nested_key: { keep_me: 1 } },
    versionName: "first",
  });
  const active = await client.getActive(name);
  await client.close();
  assert.equal(active.promptId, created.id);
  assert.equal(active.promptName, name);
  assert.equal(active.id, active.versionId);
  assert.equal(active.number, 1);
  assert.equal(active.versionName, "first");
  assert.equal(active.kind, "text");
  assert.equal(active.templateFormat, "plain");
  assert.equal(active.messages, null);
  // what the application wrote is kept as written, not camelCased
  assert.deepEqual(active.modelConfig, { model: "gpt-4o", temperature: 0.2, nested_key: { keep_me: 1 } });
  assert.equal(active.etag, `"a${active.versionId}"`);
  assert.equal(active.stale, false);
  assert.equal(active.render({ question: "why?" }), "Answer why?.");
});

test("an expired entry is revalidated with the server's etag and the server answers 304", async () => {
  const rec = new Recorder();
  const clock = new FakeClock();
  const client = make(server.url, rec, { cacheTtl: 10, clock: clock.clock });
  const name = uniqueName();
  await client.createPrompt(name, "hello");
  rec.clear();
  const first = await client.getActive(name);
  clock.advance(10);
  const again = await client.getActive(name);
  clock.advance(9.9);
  const renewed = await client.getActive(name); // the 304 renewed the TTL
  await client.close();
  assert.deepEqual(rec.statuses, [200, 304]);
  assert.equal(rec.requests[0]?.headers["If-None-Match"], undefined);
  assert.equal(rec.requests[1]?.headers["If-None-Match"], first.etag);
  assert.equal(again.source, "revalidated");
  assert.equal(again.content, "hello");
  assert.equal(renewed.source, "cache");
  assert.equal(client.stats.revalidated, 1);
});

test("a rollback on the server is seen once the TTL has passed", async () => {
  const clock = new FakeClock();
  const client = new Client({ baseUrl: server.url, cacheTtl: 10, clock: clock.clock, logger: null });
  const name = uniqueName();
  await client.createPrompt(name, "one", { versionName: "v1" });
  await client.createVersion(name, { content: "two", activate: true });
  assert.equal((await client.getActive(name)).content, "two");
  await client.rollback(name, "v1");
  clock.advance(9.9);
  const before = await client.getActive(name);
  clock.advance(0.1);
  const now = await client.getActive(name);
  await client.close();
  assert.deepEqual([before.content, before.source], ["two", "cache"]);
  assert.deepEqual([now.content, now.versionName, now.source], ["one", "v1", "server"]);
});

test("the last good copy is served with a warning after the server stops, and the server is not asked again within retryAfter", async () => {
  const own = await Server.start();
  const rec = new Recorder();
  const clock = new FakeClock();
  const warnings = new Warnings();
  const client = make(own.url, rec, { cacheTtl: 10, retryAfter: 30, clock: clock.clock, logger: warnings.logger });
  try {
    await client.createPrompt("support-reply", "be kind {{name}}");
    await client.getActive("support-reply");
    await own.stop();
    clock.advance(10);
    const stale = await client.getActive("support-reply");
    const sent = rec.requests.length;
    clock.advance(29);
    const later = await client.getActive("support-reply"); // within retryAfter: no new attempt
    assert.deepEqual([stale.source, stale.stale, stale.content], ["stale", true, "be kind {{name}}"]);
    assert.equal(stale.render({ name: "Ada" }), "be kind Ada"); // renders with the server down
    assert.ok(warnings.messages.some((m) => m.includes("last good copy")), warnings.messages.join("\n"));
    assert.equal(later.content, "be kind {{name}}");
    assert.equal(rec.requests.length, sent);
    assert.equal(client.stats.stale, 1);
  } finally {
    await client.close();
    await own.close();
  }
});

test("a hung server costs one bounded wait (activeTimeout), then the last good copy; once it answers again, a 304", async () => {
  const own = await Server.start();
  const rec = new Recorder();
  const clock = new FakeClock();
  const client = make(own.url, rec, { cacheTtl: 10, retryAfter: 30, activeTimeout: 0.3, clock: clock.clock });
  const pid = own.proc?.pid ?? 0;
  try {
    await client.createPrompt("support-reply", "be kind");
    await client.getActive("support-reply");
    clock.advance(10);
    process.kill(-pid, "SIGSTOP"); // the server hangs: it accepts, never answers
    let stale;
    try {
      stale = await client.getActive("support-reply");
    } finally {
      process.kill(-pid, "SIGCONT");
    }
    assert.deepEqual([stale.source, stale.content], ["stale", "be kind"]);
    // the revalidation was tried twice (retries: 1) and got no answer either time
    assert.equal(rec.requests.length, 4);
    assert.deepEqual(rec.statuses, [201, 200]);
    clock.advance(30); // past retryAfter: it asks again, and the server answers
    const back = await client.getActive("support-reply");
    assert.equal(back.source, "revalidated");
  } finally {
    await client.close();
    await own.close();
  }
});

test("a cold start with no server serves the fallback, and without one throws ConnectionFailed", async () => {
  const rec = new Recorder();
  const clock = new FakeClock();
  const client = make(`http://127.0.0.1:${await freePort()}`, rec, { retryAfter: 30, clock: clock.clock });
  const got = await client.getActive("support-reply", { fallback: "You are helpful." });
  const tries = rec.requests.length;
  clock.advance(29);
  const again = await client.getActive("support-reply", { fallback: "You are helpful." });
  assert.equal(rec.requests.length, tries); // the server was just found down: no new attempt
  clock.advance(1);
  await client.getActive("support-reply", { fallback: "You are helpful." });
  assert.equal(rec.requests.length, 2 * tries); // retryAfter has passed: it asks again
  await assert.rejects(client.getActive("other-prompt"), ConnectionFailed);
  await client.close();
  assert.deepEqual([got.source, got.content, got.promptName, got.versionId], [
    "fallback",
    "You are helpful.",
    "support-reply",
    0,
  ]);
  assert.equal(again.source, "fallback");
  assert.equal(tries, 2); // one try and one retry
});

test("a client's fallbacks serve a prompt whose call gives none", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const client = new Client({ baseUrl: url, retries: 0, logger: null, fallbacks: { "support-reply": "Be helpful." } });
  const served = await client.getActive("support-reply");
  const given = await client.getActive("support-reply", { fallback: "Given here." });
  await assert.rejects(client.getActive("constructor"), ConnectionFailed); // only its own keys
  await client.close();
  assert.deepEqual([served.source, served.content], ["fallback", "Be helpful."]);
  assert.equal(given.content, "Given here.");
});

test("a deleted prompt throws PromptNotFound even with a fallback", async () => {
  const clock = new FakeClock();
  const client = new Client({ baseUrl: server.url, cacheTtl: 10, clock: clock.clock, logger: null });
  const name = uniqueName();
  await client.createPrompt(name, "x");
  await client.getActive(name);
  await new Client({ baseUrl: server.url }).deletePrompt(name);
  clock.advance(10);
  const error = await client.getActive(name, { fallback: "y" }).catch((exc: unknown) => exc);
  await client.close();
  assert.ok(error instanceof PromptNotFound);
  assert.equal(error.status, 404);
  assert.equal(error.code, "prompt-not-found");
});

test("a hundred concurrent getActive calls that miss send one request", async () => {
  const rec = new Recorder();
  const client = make(server.url, rec, { cacheTtl: 60 });
  const name = uniqueName();
  await client.createPrompt(name, "hello");
  rec.clear();
  const results = await Promise.all(Array.from({ length: 100 }, () => client.getActive(name)));
  await client.close();
  assert.deepEqual(
    results.map((r) => r.content),
    Array.from({ length: 100 }, () => "hello"),
  );
  assert.deepEqual(rec.paths(), [`/prompts/${name}/active`]);
});

test("while a revalidation is in flight, other callers get the last copy at once", async () => {
  const rec = new Recorder();
  const clock = new FakeClock();
  const client = make(server.url, rec, { cacheTtl: 10, clock: clock.clock });
  const name = uniqueName();
  await client.createPrompt(name, "hello");
  await client.getActive(name);
  clock.advance(10);
  rec.clear();
  const [leader, ...others] = await Promise.all(Array.from({ length: 10 }, () => client.getActive(name)));
  await client.close();
  assert.equal(leader?.source, "revalidated");
  assert.deepEqual(new Set(others.map((o) => o.source)), new Set(["stale"]));
  assert.equal(rec.requests.length, 1);
});

test("each label is cached on its own; a key shares its label's copy when no rollout runs, and is sent as ?key=", async () => {
  const rec = new Recorder();
  const client = make(server.url, rec, { cacheTtl: 60 });
  const name = uniqueName();
  await client.createPrompt(name, "one", { versionName: "v1" });
  const two = await client.createVersion(name, { content: "two", activate: true });
  await client.moveLabel(name, "staging", "v1");
  rec.clear();
  const active = await client.getActive(name);
  const staging = await client.getActive(name, { label: "staging" });
  const forUser = await client.getActive(name, { label: "staging", key: "user-42" });
  await client.getActive(name, { label: "staging", key: "user-43" });
  await client.getActive(name, { label: "staging" });
  const cold = make(server.url, rec, { cacheTtl: 60 });
  const first = await cold.getActive(name, { label: "staging", key: "user 42/é" });
  await client.close();
  await cold.close();
  assert.equal(active.versionId, two.id);
  assert.equal(staging.content, "one");
  assert.equal(forUser.content, "one");
  assert.equal(forUser.source, "cache");
  assert.equal(first.content, "one");
  assert.deepEqual(rec.paths(), [
    `/prompts/${name}/active`,
    `/prompts/${name}/active?label=staging`,
    `/prompts/${name}/active?label=staging&key=user+42%2F%C3%A9`,
  ]);
});

test("a key the server would refuse is refused here, rollout or not, without a request", async () => {
  const rec = new Recorder();
  const client = make(server.url, rec, { cacheTtl: 60 });
  const name = uniqueName();
  await client.createPrompt(name, "one");
  rec.clear();
  const lone = await client.getActive(name, { key: "a\ud800" }).catch((e: unknown) => e);
  const long = await client.getActive(name, { key: "é".repeat(257) }).catch((e: unknown) => e);
  await client.close();
  assert.ok(lone instanceof InvalidInput && lone.field === "key", String(lone));
  assert.match(lone.detail, /lone surrogate \(U\+D800 at 1\)/);
  assert.ok(long instanceof InvalidInput && /514 bytes/.test(long.detail));
  assert.equal(rec.requests.length, 0);
});

test("a prompt fetched by id and by name is cached under each", async () => {
  const rec = new Recorder();
  const client = make(server.url, rec, { cacheTtl: 60 });
  const name = uniqueName();
  const prompt = await client.createPrompt(name, "hello");
  rec.clear();
  const byId = await client.getActive(prompt.id);
  const byName = await client.getActive(name);
  await client.getActive(prompt.id);
  await client.close();
  assert.equal(byId.versionId, byName.versionId);
  assert.deepEqual(rec.paths(), [`/prompts/${prompt.id}/active`, `/prompts/${name}/active`]);
});
