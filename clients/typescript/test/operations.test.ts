/** The registry's operations against a real server: reads (pages and cursors), writes for
 * scripts, labels, and the server's problems as the same error classes as Python's. */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import {
  Client,
  ConnectionFailed,
  errorClasses,
  InvalidInput,
  NotFound,
  PreconditionFailed,
  PromptdeckError,
  PromptNameTaken,
  StaleEtag,
  VersionNameTaken,
  VERSION,
  VersionNotFound,
  type Fetch,
} from "promptdeck";

import { freePort, PYTHON_BIN, Recorder, Server, uniqueName } from "./support.js";

const PACKAGE = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
let server: Server;
let client: Client;
before(async () => {
  server = await Server.shared();
  client = new Client({ baseUrl: server.url, actor: "ts-tests", logger: null });
});
after(async () => {
  await client.close();
  await server.close();
});

test("create then read a prompt with its first active version", async () => {
  const name = uniqueName("ops");
  const created = await client.createPrompt(name, "Hello {{name}}", {
    description: "greeting",
    tags: ["demo"],
    modelConfig: { model: "gpt-4o" },
  });
  const read = await client.getPrompt(name);
  assert.equal(read.id, created.id);
  assert.equal(read.name, name);
  assert.deepEqual(read.tags, ["demo"]);
  assert.equal(read.activeVersion?.number, 1);
  assert.equal(read.activeVersion?.createdBy, "ts-tests");
  assert.equal(read.versionCount, 1);
  assert.match(read.etag, /^"\d+-\d+"$/);
  assert.deepEqual(read.modelConfig, { model: "gpt-4o" });
});

test("listPrompts pages with a cursor and iterPrompts reads every page", async () => {
  const tag = uniqueName("tag");
  const names = [uniqueName("page"), uniqueName("page"), uniqueName("page")];
  for (const name of names) await client.createPrompt(name, "x", { tags: [tag] });
  const first = await client.listPrompts({ tag, limit: 2 });
  assert.equal(first.items.length, 2);
  assert.ok(first.nextCursor);
  const second = await client.listPrompts({ tag, limit: 2, cursor: first.nextCursor });
  assert.deepEqual([...first.items, ...second.items].map((p) => p.name), names);
  assert.equal(second.nextCursor, null);
  const all = [];
  for await (const prompt of client.iterPrompts({ tag })) all.push(prompt.name);
  assert.deepEqual(all, names);
});

test("versions: create, list newest first, get by id or by name, roll back", async () => {
  const name = uniqueName("ops");
  await client.createPrompt(name, "one", { versionName: "v1" });
  const two = await client.createVersion(name, { content: "two {{x}}", versionName: "v2", description: "second" });
  assert.equal(two.active, false);
  assert.deepEqual(two.variables, ["x"]);
  assert.equal(two.render({ x: 1 }), "two 1");
  const page = await client.listVersions(name);
  assert.deepEqual(page.items.map((v) => v.versionName), ["v2", "v1"]);
  assert.equal((await client.getVersion(name, "v2")).id, two.id);
  assert.equal((await client.getVersion(name, two.id)).content, "two {{x}}");
  await assert.rejects(client.getVersion(name, "nope"), VersionNotFound);
  const rolled = await client.rollback(name, "v2");
  assert.equal(rolled.changed, true);
  assert.equal(rolled.version.id, two.id);
  assert.equal((await client.rollback(name, two.id)).changed, false); // a no-op
  const history = [];
  for await (const version of client.iterVersions(name)) history.push(version.number);
  assert.deepEqual(history, [2, 1]);
  const events = await client.listEvents(name, { limit: 1 });
  assert.equal(events.items[0]?.kind, "version.rolled_back");
});

test("updatePrompt changes only what is given and checks ifMatch", async () => {
  const name = uniqueName("ops");
  const created = await client.createPrompt(name, "x", { description: "before" });
  const updated = await client.updatePrompt(name, { description: "after", ifMatch: created.etag });
  assert.equal(updated.description, "after");
  assert.equal(updated.content, "x");
  const error = await client.updatePrompt(name, { description: "again", ifMatch: created.etag }).catch((e: unknown) => e);
  assert.ok(error instanceof PreconditionFailed && error instanceof StaleEtag);
  assert.equal(error.status, 412);
});

test("labels: move by version name, compare-and-swap, history, revert", async () => {
  const name = uniqueName("ops");
  await client.createPrompt(name, "one", { versionName: "v1" });
  await client.createVersion(name, { content: "two", versionName: "v2", activate: true });
  const moved = await client.moveLabel(name, "staging", "v1", { reason: "try it" });
  assert.equal(moved.changed, true);
  assert.equal(moved.label.versionName, "v1");
  await client.moveLabel(name, "staging", "v2", { ifMatch: moved.label.etag });
  await assert.rejects(client.moveLabel(name, "staging", "v1", { ifMatch: moved.label.etag }), PreconditionFailed);
  const labels = await client.listLabels(name);
  assert.equal(labels[0]?.name, "active");
  assert.ok(labels.some((l) => l.name === "staging" && l.versionName === "v2"));
  const history = await client.labelHistory(name, "staging");
  assert.deepEqual(history.items.map((m) => [m.fromNumber, m.toNumber]), [[1, 2], [null, 1]]);
  assert.equal(history.items[1]?.reason, "try it");
  await client.revertLabel(name, "staging");
  assert.equal((await client.getLabel(name, "staging")).versionName, "v1");
  assert.equal((await client.getActive(name, { label: "staging" })).content, "one");
});

test("server problems become the same error classes, with their fields", async () => {
  const name = uniqueName("ops");
  await client.createPrompt(name, "x", { versionName: "v1" });
  const taken = await client.createVersion(name, { content: "y", versionName: "v1" }).catch((e: unknown) => e);
  assert.ok(taken instanceof VersionNameTaken);
  assert.equal(taken.status, 409);
  assert.equal(taken.title, "Version name taken");
  assert.equal(taken.field, "version_name");
  assert.equal(taken.code, "version-name-taken");
  assert.equal(taken.type, "https://promptdeck.dev/problems/version-name-taken");
  assert.match(taken.detail, /v1/);
  assert.equal(taken.name, "VersionNameTaken");
  await assert.rejects(client.createPrompt(name, "again"), PromptNameTaken);
  const missing = await client.getPrompt(uniqueName("missing")).catch((e: unknown) => e);
  assert.ok(missing instanceof NotFound && missing instanceof PromptdeckError);
  const invalid = await client.createPrompt("Not A Slug").catch((e: unknown) => e);
  assert.ok(invalid instanceof InvalidInput);
  assert.equal(invalid.status, 422);
  assert.equal(invalid.field, "name");
});

test("every error class of promptdeck.errors has its twin here, with the same code, title and parent", () => {
  const script = `
import json
from promptdeck.errors import PromptdeckError, error_classes
out = {}
for code, cls in error_classes().items():
    parent = cls.__mro__[1]
    out[cls.__name__] = [code, cls.title, parent.__name__ if parent is not Exception else None]
print(json.dumps(out))`;
  const python = JSON.parse(execFileSync(join(PYTHON_BIN, "python"), ["-c", script]).toString()) as Record<
    string,
    [string, string, string | null]
  >;
  const ours: Record<string, [string, string, string | null]> = {};
  for (const [code, cls] of errorClasses) {
    const parent = Object.getPrototypeOf(cls) as { name: string };
    ours[cls.name] = [code, cls.title, cls === PromptdeckError ? null : parent.name];
  }
  assert.deepEqual(ours, python);
});

test("the package's version is the one the client sends in its User-Agent", async () => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as { version: string };
  assert.equal(VERSION, pkg.version);
  const rec = new Recorder();
  await new Client({ baseUrl: server.url, fetch: rec.fetch }).health();
  assert.equal(rec.requests[0]?.headers["User-Agent"], `promptdeck-typescript/${pkg.version}`);
});

test("an unreachable server throws ConnectionFailed after bounded retries", async () => {
  const rec = new Recorder();
  const dead = new Client({ baseUrl: `http://127.0.0.1:${await freePort()}`, retries: 2, backoff: 0.01, fetch: rec.fetch });
  const error = await dead.getPrompt("x").catch((e: unknown) => e);
  assert.ok(error instanceof ConnectionFailed);
  assert.match(error.detail, /GET http:\/\/127\.0\.0\.1:\d+\/prompts\/x failed/);
  assert.equal(rec.requests.length, 3);
});

test("a create sends an Idempotency-Key, so a retried create creates once", async () => {
  const name = uniqueName("ops");
  let calls = 0;
  // The first answer is lost on its way back: the client retries with the same key.
  const lossy: Fetch = async (url, init) => {
    calls += 1;
    const answer = await globalThis.fetch(url, init);
    if (calls === 1) throw new TypeError("fetch failed (the answer was lost)");
    return answer;
  };
  const flaky = new Client({ baseUrl: server.url, fetch: lossy, backoff: 0.01 });
  const created = await flaky.createPrompt(name, "x");
  assert.equal(calls, 2);
  assert.equal((await client.getPrompt(name)).id, created.id);
  const keyed = await client.createVersion(name, { content: "y", idempotencyKey: "k-1" });
  const again = await client.createVersion(name, { content: "y", idempotencyKey: "k-1" });
  assert.equal(again.id, keyed.id);
});

test("the global fetch fits the fetch option's type, and a custom header reaches the server", async () => {
  const seen: string[] = [];
  const options: ConstructorParameters<typeof Client>[0] = {
    baseUrl: server.url,
    apiKey: "not-needed-on-an-open-server",
    fetch: (url, init) => {
      seen.push(init.headers["Authorization"] ?? "");
      return fetch(url, init);
    },
  };
  const keyed = new Client(options);
  const direct: Fetch = globalThis.fetch; // the global fetch, as is, fits the option
  assert.equal(typeof new Client({ fetch: direct }).getActive, "function");
  assert.equal((await keyed.health())["status"], "ok");
  assert.deepEqual(seen, ["Bearer not-needed-on-an-open-server"]);
});
