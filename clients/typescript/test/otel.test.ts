/**
 * The prompt on the current OpenTelemetry span: read through the global that
 * `@opentelemetry/api` registers (its context manager, and the active span under the
 * context's span key), as the Python client sets it with opentelemetry-api.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";

import { Client, otel } from "promptdeck";
import { Server, uniqueName } from "./support.js";

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
