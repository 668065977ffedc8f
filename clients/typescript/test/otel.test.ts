/**
 * The prompt on the current OpenTelemetry span: read through the global that
 * `@opentelemetry/api` registers (its context manager, and the active span under the
 * context's span key), as the Python client sets it with opentelemetry-api.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";

import { ChangesState, Client, otel, parseRolloutHeader } from "promptdeck";
import { api, Recorder, Server, uniqueName } from "./support.js";

const API_KEY = Symbol.for("opentelemetry.js.api.1");
const SPAN_KEY = Symbol.for("OpenTelemetry Context Key SPAN");

class FakeSpan {
  attributes: Record<string, string> = {};
  constructor(private readonly recording = true) {}
  setAttribute(key: string, value: string): this {
    this.attributes[key] = value;
    return this;
  }
  isRecording(): boolean {
    return this.recording;
  }
}

/** What @opentelemetry/api keeps on its global once a context manager is registered. */
function install(span: FakeSpan | null): void {
  const context = { getValue: (key: symbol) => (key === SPAN_KEY ? span : undefined) };
  (globalThis as Record<symbol, unknown>)[API_KEY] = { version: "1.9.0", context: { active: () => context } };
}

let server: Server;
before(async () => {
  server = await Server.shared();
});
after(async () => {
  await server.close();
});
afterEach(() => {
  delete (globalThis as Record<symbol, unknown>)[API_KEY];
});

test("getActive and render name the prompt, its version id and the label on the recording span", async () => {
  const client = new Client({ baseUrl: server.url, logger: null });
  const name = uniqueName("otel");
  try {
    const created = await client.createPrompt(name, "Hi {{who}}");
    const id = created.activeVersion?.id ?? 0;
    const span = new FakeSpan();
    install(span);
    const prompt = await client.getActive(name); // fetched
    assert.deepEqual(span.attributes, {
      [otel.PROMPT_NAME]: name,
      [otel.PROMPT_VERSION]: String(id),
      [otel.LABEL]: "active",
    });
    const cached = new FakeSpan();
    install(cached);
    await client.getActive(name); // from the cache: named the same
    assert.equal(cached.attributes[otel.PROMPT_VERSION], String(id));
    const rendering = new FakeSpan();
    install(rendering);
    assert.equal(prompt.render({ who: "Ada" }), "Hi Ada");
    assert.equal(rendering.attributes[otel.PROMPT_NAME], name);
    assert.equal(rendering.attributes[otel.PROMPT_VERSION], String(id));
  } finally {
    await client.close();
  }
});

test("the server render names the version it rendered, and the label active when none was asked, as the Python client", async () => {
  const client = new Client({ baseUrl: server.url, logger: null });
  const name = uniqueName("otel");
  try {
    const first = (await client.createPrompt(name, "Hello {{who}}")).activeVersion?.id ?? 0;
    const second = (await client.createVersion(name, { content: "Hi {{who}}" })).id;
    assert.deepEqual(await onSpan(() => client.render(name, { who: "Ada" })), {
      [otel.PROMPT_NAME]: name,
      [otel.PROMPT_VERSION]: String(first),
      [otel.LABEL]: "active",
    });
    assert.deepEqual(await onSpan(() => client.render(name, { who: "Ada" }, { version: 2 })), {
      [otel.PROMPT_NAME]: name,
      [otel.PROMPT_VERSION]: String(second),
    });
  } finally {
    await client.close();
  }
});

test("without OpenTelemetry, or with a span that does not record, nothing is set and nothing throws", async () => {
  const client = new Client({ baseUrl: server.url, logger: null });
  const name = uniqueName("otel");
  try {
    await client.createPrompt(name, "Hi");
    assert.equal(otel.recordingSpan(), null);
    await client.getActive(name);
    const idle = new FakeSpan(false);
    install(idle);
    assert.equal(otel.recordingSpan(), null);
    (await client.getActive(name)).render({});
    assert.deepEqual(idle.attributes, {});
    (globalThis as Record<symbol, unknown>)[API_KEY] = { context: { active: () => { throw new Error("broken"); } } };
    assert.equal(otel.recordingSpan(), null);
    await client.getActive(name);
  } finally {
    await client.close();
  }
});

/** The attributes `call` sets on a fresh recording span. */
async function onSpan(call: () => unknown): Promise<Record<string, string>> {
  const span = new FakeSpan();
  install(span);
  await call();
  return span.attributes;
}

test("during a rollout, getActive and render name the arm of each caller's key, answered by the server or assigned here", async () => {
  const name = uniqueName("otel");
  const created = await api(server.url, "POST", "/prompts", { name, content: "baseline {{q}}" });
  const baseline: number = created.active_version.id;
  const candidate: number = (await api(server.url, "POST", `/prompts/${name}/versions`, { content: "candidate {{q}}" })).id;
  await api(server.url, "PUT", `/prompts/${name}/labels/production`, { version_id: baseline });
  const rec = new Recorder();
  const before = new Client({ baseUrl: server.url, cacheTtl: 3600, logger: null, fetch: rec.fetch });
  const client = new Client({ baseUrl: server.url, cacheTtl: 3600, logger: null, fetch: rec.fetch });
  const pushed = new Client({ baseUrl: server.url, cacheTtl: 3600, logger: null, fetch: rec.fetch });
  const named = (version: number, arm?: string): Record<string, string> => ({
    [otel.PROMPT_NAME]: name,
    [otel.PROMPT_VERSION]: String(version),
    [otel.LABEL]: "production",
    ...(arm === undefined ? {} : { [otel.ROLLOUT_ARM]: arm }),
  });
  try {
    // Cached before the rollout: no arm.
    assert.deepEqual(await onSpan(() => before.getActive(name, { label: "production", key: "k-0" })), named(baseline));
    await pushed.getActive(name, { label: "production", key: "k-0" });
    await api(server.url, "POST", `/prompts/${name}/labels/production/rollout`, {
      version_id: candidate,
      steps: [50, 100],
      guard: { measure: "success_rate", max_drop: 0.5, min_outcomes: 1_000_000 },
      step_after: { minutes: 43_200 },
      advance: "manual",
      reason: "the TypeScript client's span test",
    });
    // Which arm the server gives each key (as another program would ask it).
    const arms = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const got = await api(server.url, "GET", `/prompts/${name}/active?label=production&key=k-${i}`);
      arms.set(`k-${i}`, got.version_id === candidate ? "candidate" : "baseline");
    }
    const keyOf = (arm: string): string => [...arms].find(([, a]) => a === arm)?.[0] ?? "";
    const versionOf = (arm: string): number => (arm === "candidate" ? candidate : baseline);
    assert.ok(keyOf("candidate") && keyOf("baseline"), "both arms among 40 keys at 50%");
    rec.clear();
    // The first caller of each arm: the server answered (with the split).
    for (const arm of ["candidate", "baseline"]) {
      const key = keyOf(arm);
      let prompt = null as unknown as Awaited<ReturnType<Client["getActive"]>>;
      assert.deepEqual(await onSpan(async () => (prompt = await client.getActive(name, { label: "production", key }))), named(versionOf(arm), arm), key);
      assert.equal(prompt.source, "server");
      assert.equal(prompt.arm, arm);
      assert.deepEqual(await onSpan(() => prompt.render({ q: "?" })), named(versionOf(arm), arm), `render of ${key}`);
    }
    assert.equal(rec.paths().length, 2);
    // Every other key: assigned here from the cached split, with no request, named alike.
    for (const [key, arm] of arms) {
      assert.deepEqual(await onSpan(() => client.getActive(name, { label: "production", key })), named(versionOf(arm), arm), key);
      const copy = await client.getActive(name, { label: "production", key });
      assert.deepEqual(await onSpan(() => copy.render({ q: "?" })), named(versionOf(arm), arm), `render of ${key}`);
    }
    assert.equal(rec.paths().length, 2);
    // The copy cached before the rollout, revalidated (a 304 names only the version): its arm now.
    before.cache.expire(null);
    rec.clear();
    assert.deepEqual(await onSpan(() => before.getActive(name, { label: "production", key: keyOf("baseline") })), named(baseline, "baseline"));
    assert.deepEqual(rec.statuses, [304]);
    // The copy cached before the rollout, given the split pushed on GET /changes (as the
    // stream applies it): a baseline key is assigned here, with its arm, with no request.
    const state = new ChangesState(pushed.cache, null, () => {}, () => {});
    const header = (await fetch(`${server.url}/prompts/${name}/active?label=production`)).headers.get("promptdeck-rollout");
    const split = parseRolloutHeader(header ?? "");
    const started = { id: split.rolloutId, status: "running", step: 0, percent: split.basisPoints / 100, basis_points: split.basisPoints, baseline_id: split.baseline, candidate_id: split.candidate, salt: split.salt };
    const move = { id: 1, prompt_id: created.id, prompt: name, label: "production", kind: "rollout.started", version_id: baseline, number: 1, version_name: null, at: "", rollout: started };
    state.on({ event: "move", id: null, data: JSON.stringify(move) });
    assert.equal(pushed.stats.splits, 1);
    rec.clear();
    assert.deepEqual(await onSpan(() => pushed.getActive(name, { label: "production", key: keyOf("baseline") })), named(baseline, "baseline"));
    assert.deepEqual(rec.paths(), []);
  } finally {
    await before.close();
    await client.close();
    await pushed.close();
  }
});
