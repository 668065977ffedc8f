/** Rollouts: the assignment against every case of conformance/assignment.json (with Node's
 * SHA-256 and with the TypeScript one, also in a runtime that has no synchronous hash), the
 * wire adapter, `getActive(name, { label, key })` assigning locally from the cached split and
 * following pushed changes, and, when the server runs rollouts, the same version as the
 * server for every key. */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  armOf,
  basisPoints,
  bucket,
  ChangesState,
  Client,
  InvalidInput,
  parseRolloutHeader,
  rolloutOfMove,
  ServerError,
  sha256,
  SHA256_IMPLEMENTATION,
  sha256Node,
  sha256Pure,
  Split,
  type Fetch,
  type FetchResponse,
} from "promptdeck";

import { Random } from "./generate.js";
import { api, PYTHON_BIN, Recorder, REPO, Server, uniqueName, until } from "./support.js";

interface Fixtures {
  buckets: Array<{ key: string; salt: string; bucket: number }>;
  arms: Array<{ key: string; salt: string; percent: number; basis_points: number; arm: string }>;
  refused_keys: string[];
  generated: { salt: string; buckets: number[] };
}

const FIXTURES = JSON.parse(readFileSync(join(REPO, "conformance", "assignment.json"), "utf8")) as Fixtures;
const encoder = new TextEncoder();

function bucketWith(hash: (data: Uint8Array) => Uint8Array, salt: string, key: string): number {
  const d = hash(encoder.encode(`${salt}:${key}`));
  return ((((d[0] as number) << 24) | ((d[1] as number) << 16) | ((d[2] as number) << 8) | (d[3] as number)) >>> 0) % 10_000;
}

const hex = (d: Uint8Array): string => Buffer.from(d).toString("hex");

// --- the assignment ---------------------------------------------------------------------------

test("every bucket of conformance/assignment.json, with Node's SHA-256 and with the TypeScript one", () => {
  assert.equal(SHA256_IMPLEMENTATION, "node"); // Node 20.16+: process.getBuiltinModule
  assert.ok(FIXTURES.buckets.length >= 100);
  for (const c of FIXTURES.buckets) {
    assert.equal(bucket(c.salt, c.key), c.bucket, JSON.stringify(c));
    assert.equal(bucketWith(sha256Pure, c.salt, c.key), c.bucket, JSON.stringify(c));
  }
  const { salt, buckets } = FIXTURES.generated;
  assert.equal(buckets.length, 10_000);
  buckets.forEach((b, i) => {
    assert.equal(bucket(salt, `user-${i}`), b);
    assert.equal(bucketWith(sha256Pure, salt, `user-${i}`), b);
  });
});

test("every arm of conformance/assignment.json: the share in basis points, and the edge of <", () => {
  assert.ok(FIXTURES.arms.length >= 300);
  for (const c of FIXTURES.arms) {
    assert.equal(basisPoints(c.percent), c.basis_points, JSON.stringify(c));
    assert.equal(armOf(c.basis_points, bucket(c.salt, c.key)), c.arm, JSON.stringify(c));
  }
  assert.throws(() => basisPoints(12.345), /more than two decimals/);
});

test("every refused key of conformance/assignment.json is refused, naming the key, never replaced", () => {
  assert.ok(FIXTURES.refused_keys.length >= 4);
  for (const key of FIXTURES.refused_keys) {
    assert.throws(() => bucket(FIXTURES.generated.salt, key), (exc: unknown) => exc instanceof InvalidInput && exc.field === "key");
  }
  assert.throws(() => bucket("no:colon", "k"), (exc: unknown) => exc instanceof InvalidInput && exc.field === "salt");
  const python = execFileSync(join(PYTHON_BIN, "python"), [
    "-c",
    `import json, sys
from promptdeck.domain.rollouts.assign import check_key
from promptdeck.errors import InvalidInput
out = []
for key in json.loads(sys.stdin.read()):
    try:
        check_key(key)
        out.append(None)
    except InvalidInput as exc:
        out.append(exc.detail)
print(json.dumps(out))`,
  ], { input: JSON.stringify(FIXTURES.refused_keys) });
  const ours = FIXTURES.refused_keys.map((key) => {
    try {
      bucket("s", key);
      return null;
    } catch (exc) {
      return (exc as InvalidInput).detail;
    }
  });
  assert.deepEqual(ours, JSON.parse(python.toString())); // the same words as the server's
});

test("the TypeScript SHA-256 is Node's on the standard vectors and on generated inputs of every length to 300 bytes", () => {
  assert.equal(hex(sha256Pure(encoder.encode(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(hex(sha256Pure(encoder.encode("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const r = new Random(256);
  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, () => r.int(0, 255));
    assert.equal(hex(sha256Pure(data)), hex(sha256Node(data)), `${n} bytes`);
  }
  assert.equal(hex(sha256(encoder.encode("abc"))), hex(sha256Pure(encoder.encode("abc"))));
});

test("where the runtime has no synchronous SHA-256 (Node 18, Deno, browsers), the TypeScript one assigns every fixture alike", () => {
  // A Node without process.getBuiltinModule, as Node 18 is: the package falls back on its own.
  const script = `
delete process.getBuiltinModule;
const { bucket, SHA256_IMPLEMENTATION } = await import("promptdeck");
const fixtures = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
let wrong = 0;
for (const c of fixtures.buckets) if (bucket(c.salt, c.key) !== c.bucket) wrong++;
fixtures.generated.buckets.forEach((b, i) => { if (bucket(fixtures.generated.salt, "user-" + i) !== b) wrong++; });
console.log(JSON.stringify({ SHA256_IMPLEMENTATION, wrong }));`;
  const out = execFileSync(process.execPath, ["--input-type=commonjs", "-e", `(async () => {${script}})()`, join(REPO, "conformance", "assignment.json")], {
    cwd: join(REPO, "clients", "typescript"),
  });
  assert.deepEqual(JSON.parse(out.toString()), { SHA256_IMPLEMENTATION: "pure", wrong: 0 });
});

// --- the wire adapter -------------------------------------------------------------------------

test("the Promptdeck-Rollout header is read as the server writes it, and an unreadable one is the server's error", () => {
  const split = parseRolloutHeader('id=3, baseline=4, candidate=9, basis-points=500, salt="4f1c2a9e8b7d6c5a"');
  assert.deepEqual([split.rolloutId, split.baseline, split.candidate, split.basisPoints, split.salt], [3, 4, 9, 500, "4f1c2a9e8b7d6c5a"]);
  for (const bad of ["", "id=3", 'id=x, baseline=4, candidate=9, basis-points=500, salt="s"', 'id=3, baseline=4, candidate=9, basis-points=10001, salt="s"']) {
    assert.throws(() => parseRolloutHeader(bad), ServerError, bad);
  }
});

test("a pushed rollout change is read as live (with its split), ended, or not a rollout's", () => {
  const rollout = { id: 1, status: "running", step: 1, percent: 5, basis_points: 500, baseline_id: 4, candidate_id: 9, salt: "abc" };
  const live = rolloutOfMove({ kind: "rollout.advanced", label: "production", rollout });
  assert.ok(live !== null && "live" in live && live.live.basisPoints === 500);
  assert.deepEqual(rolloutOfMove({ kind: "rollout.rolled_back", rollout: { ...rollout, status: "rolled_back" } }), { ended: true });
  assert.equal(rolloutOfMove({ kind: "label.moved", rollout: null }), null);
  assert.equal(rolloutOfMove({ kind: "rollout.started", rollout: { ...rollout, salt: "bad salt" } }), null);
});

// --- getActive with a key, against a server that splits a label ------------------------------

let server: Server;
before(async () => {
  server = await Server.shared();
});
after(async () => {
  await server.close();
});

/**
 * A fetch that makes the real server look as if `label` were in a rollout described by
 * `split` (its two arms served by two real labels, `label` and `${label}-candidate`): an
 * answer for `label` is the arm of the request's key (a random one without a key), with the
 * Promptdeck-Rollout header, as the server of the rollouts branch answers. Counts requests.
 */
class SplitServer {
  split: Split | null = null;
  readonly active: string[] = [];
  readonly outcomes: unknown[] = []; // every outcome sent

  constructor(readonly label: string) {}

  readonly fetch: Fetch = async (url, init) => {
    const u = new URL(url);
    if (u.pathname === "/outcomes" && init.body !== undefined) {
      this.outcomes.push(...(JSON.parse(init.body) as { outcomes: unknown[] }).outcomes);
    }
    if (!u.pathname.endsWith("/active") || u.searchParams.get("label") !== this.label) return globalThis.fetch(url, init);
    this.active.push(u.search);
    const split = this.split;
    if (split !== null) {
      const key = u.searchParams.get("key") ?? undefined;
      if (split.pick(key) === split.candidate) u.searchParams.set("label", `${this.label}-candidate`);
    }
    u.searchParams.delete("key");
    const answer = await globalThis.fetch(u.toString(), init);
    const header = split === null ? null : `id=${split.rolloutId}, baseline=${split.baseline}, candidate=${split.candidate}, basis-points=${split.basisPoints}, salt="${split.salt}"`;
    const wrapped: FetchResponse = {
      status: answer.status,
      statusText: answer.statusText,
      headers: { get: (name) => (name.toLowerCase() === "promptdeck-rollout" ? header : answer.headers.get(name)) },
      body: answer.body,
      text: () => answer.text(),
    };
    return wrapped;
  };
}

async function twoVersions(name: string, label: string): Promise<[number, number]> {
  const created = await api(server.url, "POST", "/prompts", { name, content: "baseline {{q}}" });
  const candidate = await api(server.url, "POST", `/prompts/${name}/versions`, { content: "candidate {{q}}" });
  await api(server.url, "PUT", `/prompts/${name}/labels/${label}`, { version_id: created.active_version.id });
  await api(server.url, "PUT", `/prompts/${name}/labels/${label}-candidate`, { version_id: candidate.id });
  return [created.active_version.id, candidate.id];
}

const SALT = FIXTURES.generated.salt;
const ARM_OF = (i: number, bp: number): "baseline" | "candidate" => armOf(bp, FIXTURES.generated.buckets[i] as number);

test("getActive with a key picks its arm from the cached split: the server's arm for 2,000 keys, two requests", async () => {
  const name = uniqueName("rollout");
  const fake = new SplitServer("production");
  const [baseline, candidate] = await twoVersions(name, "production");
  fake.split = new Split(1, baseline, candidate, 2500, SALT);
  const client = new Client({ baseUrl: server.url, fetch: fake.fetch, cacheTtl: 3600, logger: null });
  try {
    for (let i = 0; i < 2000; i++) {
      const got = await client.getActive(name, { label: "production", key: `user-${i}` });
      assert.equal(got.versionId, ARM_OF(i, 2500) === "candidate" ? candidate : baseline, `user-${i}`);
      assert.equal(got.render({ q: "?" }), ARM_OF(i, 2500) === "candidate" ? "candidate ?" : "baseline ?");
    }
    assert.equal(fake.active.length, 2); // one per arm: every other key was assigned here
    assert.ok(fake.active.every((q) => q.includes("key=user-")));
    // Without a key, each call draws an arm: both are seen, with no request.
    const drawn = new Set<number>();
    for (let i = 0; i < 200; i++) drawn.add((await client.getActive(name, { label: "production" })).versionId);
    assert.deepEqual([...drawn].sort(), [baseline, candidate].sort());
    assert.equal(fake.active.length, 2);
  } finally {
    await client.close();
  }
});

test("a pushed rollout change moves keys to their new arm with no request; its end sends the next call to the server", async () => {
  const name = uniqueName("rollout");
  const fake = new SplitServer("production");
  const [baseline, candidate] = await twoVersions(name, "production");
  fake.split = new Split(7, baseline, candidate, 500, SALT);
  const client = new Client({ baseUrl: server.url, fetch: fake.fetch, cacheTtl: 3600, logger: null });
  const state = new ChangesState(client.cache, null, () => {}, () => {}); // as the stream applies them
  const push = (kind: string, status: string, bp: number): void => {
    const rollout = { id: 7, status, step: 1, percent: bp / 100, basis_points: bp, baseline_id: baseline, candidate_id: candidate, salt: SALT };
    const move = { id: 1, prompt_id: 1, prompt: name, label: "production", kind, version_id: baseline, number: 1, version_name: null, at: "", rollout };
    state.on({ event: "move", id: null, data: JSON.stringify(move) });
  };
  const versions = async (n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await client.getActive(name, { label: "production", key: `user-${i}` })).versionId);
    return out;
  };
  const expected = (n: number, bp: number): number[] =>
    Array.from({ length: n }, (_, i) => (ARM_OF(i, bp) === "candidate" ? candidate : baseline));
  try {
    assert.deepEqual(await versions(500), expected(500, 500));
    const requests = fake.active.length;
    fake.split = new Split(7, baseline, candidate, 5000, SALT);
    push("rollout.advanced", "running", 5000);
    assert.equal(client.stats.splits, 1);
    assert.deepEqual(await versions(500), expected(500, 5000)); // raised share: keys only gain the candidate
    assert.equal(fake.active.length, requests);
    // Rolled back: the label serves the baseline again; the next call of the label asks.
    fake.split = null;
    push("rollout.rolled_back", "rolled_back", 0);
    assert.deepEqual(new Set(await versions(500)), new Set([baseline]));
    assert.equal(fake.active.length, requests + 1);
  } finally {
    await client.close();
  }
});

test("an outcome of a copy served through a rollout is tagged with its label, so that its guard counts it", async () => {
  const name = uniqueName("rollout");
  const fake = new SplitServer("production");
  const [baseline, candidate] = await twoVersions(name, "production");
  fake.split = new Split(1, baseline, candidate, 10_000, SALT);
  const client = new Client({ baseUrl: server.url, fetch: fake.fetch, cacheTtl: 3600, logger: null });
  try {
    const served = await client.getActive(name, { label: "production", key: "u" });
    assert.equal(served.versionId, candidate);
    served.report({ success: true });
    served.report({ success: false, tags: { label: "mine" } });
    (await client.getActive(name)).report({ success: true }); // no rollout: no tag
    await client.flushOutcomes();
    assert.equal(client.outcomeStats.sent, 3); // the server took them
    const tags = (fake.outcomes as Array<{ tags?: Record<string, string> }>).map((o) => o.tags ?? null);
    assert.deepEqual(tags, [{ label: "production" }, { label: "mine" }, null]);
  } finally {
    await client.close();
  }
});

// --- against a server that runs rollouts ------------------------------------------------------

async function runsRollouts(): Promise<boolean> {
  const answer = await fetch(`${server.url}/openapi.json`);
  const doc = (await answer.json()) as { paths?: Record<string, unknown> };
  return Object.keys(doc.paths ?? {}).some((p) => p.endsWith("/labels/{label}/rollout"));
}

test("with the server's own rollout, every key gets the server's version here, across an advance and an abort", async (t) => {
  if (!(await runsRollouts())) {
    t.skip("this server has no rollouts (POST …/labels/{label}/rollout): the wire adapter is checked above");
    return;
  }
  const name = uniqueName("rollout");
  const created = await api(server.url, "POST", "/prompts", { name, content: "baseline" });
  const v2 = await api(server.url, "POST", `/prompts/${name}/versions`, { content: "candidate" });
  await api(server.url, "PUT", `/prompts/${name}/labels/production`, { version_id: created.active_version.id });
  await api(server.url, "POST", `/prompts/${name}/labels/production/rollout`, {
    version_id: v2.id,
    steps: [10, 50, 100],
    guard: { measure: "success_rate", max_drop: 0.5, min_outcomes: 1_000_000 },
    step_after: { minutes: 43_200 },
    advance: "manual",
    reason: "the TypeScript client's test",
  });
  const rec = new Recorder();
  const client = new Client({ baseUrl: server.url, cacheTtl: 3600, subscribe: [name], logger: null, fetch: rec.fetch });
  const fetched = (): number => rec.paths().filter((p) => p.includes("/active")).length;
  const compare = async (n: number): Promise<Set<number>> => {
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      const key = `k-${i}`;
      const ours = (await client.getActive(name, { label: "production", key })).versionId;
      const theirs = (await api(server.url, "GET", `/prompts/${name}/active?label=production&key=${key}`)).version_id;
      assert.equal(ours, theirs, key);
      seen.add(ours);
    }
    return seen;
  };
  try {
    await client.getActive(name, { label: "production", key: "k-0" }); // starts the stream
    await until(() => client.changes?.state.connected === true, "the stream is up");
    rec.clear();
    assert.equal((await compare(300)).size, 2);
    assert.equal(fetched(), 2); // one per arm: every other key was assigned here
    const splits = client.stats.splits;
    await api(server.url, "POST", `/prompts/${name}/labels/production/rollout/advance`, {});
    await until(() => client.stats.splits > splits, "the advance is pushed");
    const before = fetched();
    assert.equal((await compare(300)).size, 2);
    assert.equal(fetched(), before); // 10% -> 50%: both arms cached, every key assigned here
    const pushed = client.stats.pushed;
    await api(server.url, "POST", `/prompts/${name}/labels/production/rollout/abort`, {});
    await until(() => client.stats.pushed > pushed, "the abort is pushed");
    assert.deepEqual(await compare(100), new Set([created.active_version.id]));
  } finally {
    await client.close();
  }
});
