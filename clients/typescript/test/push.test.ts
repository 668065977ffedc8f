/** subscribe: moves pushed on GET /changes expire the cache at once, across processes, and
 * through a server restart, missing no move (Last-Event-ID). The TTL is an hour, so only the
 * push can explain a fresh version. */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Client, LineSplitter, SseParser } from "promptdeck";

import { api, Server, uniqueName, until } from "./support.js";

const HOUR = 3600;
let a: Server; // where the rollbacks are made
let b: Server; // another process on the same database: where the client reads
before(async () => {
  a = await Server.shared();
  b = await Server.start(a.database);
});
after(async () => {
  await b.close(false);
  await a.close();
});

/** A prompt with three versions; their ids, oldest first (the newest active). */
async function prompt(name: string): Promise<number[]> {
  const created = await api(a.url, "POST", "/prompts", { name, content: "v0" });
  const ids: number[] = [created.active_version.id];
  for (const content of ["v1", "v2"]) {
    ids.push((await api(a.url, "POST", `/prompts/${name}/versions`, { content, activate: true })).id);
  }
  return ids;
}

/**
 * Wait until the client's stream has passed every event of `names` so far: a server's feed
 * polls the database, so a stream that just started may still deliver moves made before it.
 */
async function settled(client: Client, ...names: string[]): Promise<void> {
  let last = 0;
  for (const name of names) {
    const page = await api(a.url, "GET", `/prompts/${name}/events?limit=1`);
    last = Math.max(last, page.items[0].id);
  }
  const state = client.changes?.state;
  await until(() => state !== undefined && state.connected && (state.lastEventId ?? 0) >= last, "the stream is settled");
}

test("a subscribed client sees a rollback made through another process within milliseconds", async (t) => {
  const name = uniqueName("push");
  const ids = await prompt(name);
  const client = new Client({ baseUrl: b.url, cacheTtl: HOUR, subscribe: true, logger: null });
  try {
    assert.equal((await client.getActive(name)).versionId, ids[2]);
    const changes = client.changes;
    assert.ok(changes !== null);
    await settled(client, name);
    await client.getActive(name); // the first "ready" expired what was cached before it
    assert.equal((await client.getActive(name)).source, "cache");
    const pushed = client.stats.pushed;
    const moves = changes.state.moves;
    await api(a.url, "POST", `/prompts/${name}/versions/${ids[0]}/rollback`);
    const took = await until(
      async () => (await client.getActive(name)).versionId === ids[0],
      "the rollback reaches the cache",
    );
    t.diagnostic(`figure: rollback on process A seen by a client of process B after ${took.toFixed(1)} ms`);
    assert.ok(took < 2000, `${took} ms`);
    assert.equal((await client.getActive(name)).source, "cache"); // fresh again after one fetch
    assert.equal(client.stats.pushed, pushed + 1);
    assert.equal(changes.state.moves, moves + 1);
  } finally {
    await client.close();
  }
  assert.equal(client.changes?.state.connected, false);
});

test("a client subscribed to some prompts hears only of those, and a label's move expires only that label", async () => {
  const name = uniqueName("push");
  const other = uniqueName("push");
  const ids = await prompt(name);
  const otherIds = await prompt(other);
  await api(a.url, "PUT", `/prompts/${name}/labels/staging`, { version_id: ids[1] });
  const client = new Client({ baseUrl: b.url, cacheTtl: HOUR, subscribe: [name], logger: null });
  try {
    await client.getActive(name);
    await client.getActive(other);
    const changes = client.changes;
    assert.ok(changes !== null);
    await settled(client, name, other);
    await client.getActive(name);
    await client.getActive(other);
    await client.getActive(name, { label: "staging" });
    const moves = changes.state.moves;
    await api(a.url, "POST", `/prompts/${other}/versions/${otherIds[0]}/rollback`);
    await api(a.url, "PUT", `/prompts/${name}/labels/staging`, { version_id: ids[0] });
    await until(async () => (await client.getActive(name, { label: "staging" })).versionId === ids[0], "the move");
    assert.equal(changes.state.moves, moves + 1); // the other prompt's rollback was not sent
    assert.equal((await client.getActive(name)).source, "cache"); // active did not move
    assert.equal((await client.getActive(other)).versionId, otherIds[2]); // TTL only: not seen
  } finally {
    await client.close();
  }
});

test("a subscribed client recovers after its server restarts, missing no move", async () => {
  const name = uniqueName("push");
  const ids = await prompt(name);
  const client = new Client({ baseUrl: b.url, cacheTtl: HOUR, subscribe: name, logger: null });
  try {
    await client.getActive(name);
    const changes = client.changes;
    assert.ok(changes !== null);
    await settled(client, name);
    const last = changes.state.lastEventId;
    const moves = changes.state.moves;
    await b.kill(); // a crash: the stream ends
    await until(() => !changes.state.connected, "the drop is noticed");
    assert.equal((await client.getActive(name)).versionId, ids[2]); // down: the cached copy
    for (const id of [ids[0], ids[1]]) {
      await api(a.url, "POST", `/prompts/${name}/versions/${id}/rollback`); // while no one streams
    }
    await b.start(); // the same port: the client reconnects with Last-Event-ID
    await until(() => changes.state.moves === moves + 2, "both moves made while it was down", 60);
    assert.ok(last !== null && changes.state.lastEventId !== null && changes.state.lastEventId >= last + 2);
    assert.equal((await client.getActive(name)).versionId, ids[1]);
  } finally {
    await client.close();
  }
});

test("the SSE parser reads ready, moves and heartbeats with their ids, across chunks and line ends", () => {
  const move =
    '{"id":5,"prompt_id":7,"prompt":"p","label":"active","kind":"version.rolled_back",' +
    '"version_id":2,"number":2,"version_name":null,"at":"2026-01-01T00:00:00Z"}';
  const stream = `retry: 1000\r\nid: 4\r\nevent: ready\r\ndata: {"last_event_id":4}\r\n\r\nid: 5\nevent: move\ndata: ${move}\n\n: heartbeat\rid: 9\r\r`;
  const lines = new LineSplitter();
  const parser = new SseParser();
  const events = [];
  for (let i = 0; i < stream.length; i += 7) {
    for (const line of lines.push(stream.slice(i, i + 7))) events.push(...parser.feed(line));
  }
  assert.deepEqual(
    events.map((e) => [e.event, e.id]),
    [
      ["ready", "4"],
      ["move", "5"],
      ["", "9"],
    ],
  );
  assert.equal(events[1]?.data, move);
  assert.equal(parser.retryS, 1);
});
