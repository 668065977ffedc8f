/** The render: the same output as promptdeck/domain/templates.py for the same template and
 * values (checked case by case against the Python code itself), and rendering where the
 * application runs: from the cache with the server down, includes too. */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  Client,
  IncludeRef,
  JsonFloat,
  MissingVariables,
  PromptdeckError,
  pyJson,
  render,
  renderedValue,
  setVariableCheck,
  contractVariableCheck,
  TemplateInvalid,
  InvalidInput,
  type Rendered,
  type Variables,
} from "promptdeck";

import { parsePython } from "./pyparse.js";
import { FakeClock, PYTHON_BIN, Recorder, Server, uniqueName } from "./support.js";

// --- against the Python render ----------------------------------------------------------------

interface Case {
  kind?: string;
  content: string;
  variables: Variables;
  includes?: Record<string, string>;
  path?: string[];
}

const BIG = "x".repeat(2_000_001);
// Written as JSON text, read by Python's json and by parsePython alike (floats stay floats).
const CASES_JSON = String.raw`[
  {"content": "Hello {{name}}, {{ name }} and {{\tname\n}}.", "variables": {"name": "Ada"}},
  {"content": "kept: {{ \"x\" }} {{1}} {{ a b }} {{}} {json: {{name}}} {{{name}}}", "variables": {"name": "N"}},
  {"content": "escaped \\{{name}} \\{{> other}} \\\\{{name}}", "variables": {"name": "N"}},
  {"content": "nbsp {{\u00a0name\u00a0}} fs {{\u001cname\u001f}} nel {{\u0085name}} bom {{\ufeffname}}", "variables": {"name": "N"}},
  {"content": "{{a}}|{{b}}|{{c}}|{{d}}|{{e}}|{{f}}|{{g}}|{{h}}", "variables": {"a": 1, "b": 1.0, "c": -0.0, "d": 0.1, "e": 1e16, "f": 1e-5, "g": 123456789.125, "h": 1e15}},
  {"content": "{{a}}|{{b}}|{{c}}|{{d}}|{{e}}|{{f}}", "variables": {"a": 1.5e300, "b": 5e-324, "c": -2.5e-7, "d": 0.0001, "e": 1e22, "f": 9007199254740991}},
  {"content": "{{a}}|{{b}}|{{c}}|{{d}}", "variables": {"a": NaN, "b": Infinity, "c": -Infinity, "d": 1.7976931348623157e308}},
  {"content": "{{a}}|{{b}}|{{c}}|{{d}}|{{e}}", "variables": {"a": null, "b": true, "c": false, "d": [], "e": {}}},
  {"content": "{{v}}", "variables": {"v": [1, 2.0, "three", [4, {"five": 5}], null, true]}},
  {"content": "{{v}}", "variables": {"v": {"b": 1, "2": 2, "a": {"1": "one", "z": [0.5]}}}},
  {"content": "{{v}}", "variables": {"v": {"q\"uote": "back\\slash", "ctl": "\u0000\u0001\b\f\n\r\t\u001f\u007f", "uni": "é 😀 \u2028 ☃"}}},
  {"content": "{{v}}", "variables": {"v": ["\ud800 lone", "pair 😀"]}},
  {"content": "{{v}} {{w}}", "variables": {"v": "pair \ud83d\ude00", "w": "low \udc00 then high \udbff"}},
  {"content": "{{a}}", "variables": {"a": "x", "\ud83d": 1}},
  {"kind": "chat", "content": "[{\"role\":\"user\",\"content\":\"{{a}}\"},{\"role\":\"placeholder\",\"name\":\"h\"}]", "variables": {"a": "x", "h": [{"role": "user", "content": "x \udfff"}]}},
  {"kind": "chat", "content": "[{\"role\":\"user\",\"content\":\"{{a}}\"},{\"role\":\"placeholder\",\"name\":\"h\"}]", "variables": {"a": "\ud800", "h": [{"role": "user", "content": "x \udfff"}]}},
  {"content": "value {{v}} is inserted as is", "variables": {"v": "{{v}} {{> other}} \\{{x}} {% if %}"}},
  {"content": "{{a}} {{b}} {{c}}", "variables": {"b": "x"}},
  {"content": "{{b}} {{a}} {{b}}", "variables": {"z": 1, "é": 2, "😀": 3, "￿": 4, "a": 5, "b": 6, "A": 7}},
  {"content": "{{> tone}} and {{name}}", "variables": {"name": "N"}},
  {"content": "{{> tone}} {{> tone@3}} {{> sign@staging}} {{q}}", "variables": {"mood": "kind", "q": "?", "team": "Ops"},
   "includes": {"tone": "Be {{mood}}.", "tone@3": "Be very {{mood}}.", "sign@staging": "-- {{team}} \\{{kept}}"}, "path": ["reply"]},
  {"content": "{{> tone}}", "variables": {}, "includes": {"tone": "Be {{mood}} {{> sign}}", "sign": "{{team}}"}, "path": ["reply"]},
  {"content": "{{> a}}", "variables": {}, "includes": {"a": "{{> b}}", "b": "{{> reply}}"}, "path": ["reply"]},
  {"content": "{{> d1}}", "variables": {}, "includes": {"d1": "{{> d2}}", "d2": "{{> d3}}", "d3": "{{> d4}}", "d4": "{{> d5}}", "d5": "{{> d6}}", "d6": "{{> d7}}", "d7": "{{> d8}}", "d8": "{{> d9}}", "d9": "{{> d10}}", "d10": "end"}, "path": ["top"]},
  {"content": "${"{{> x}}".repeat(65)}", "variables": {}, "includes": {"x": "."}, "path": ["top"]},
  {"kind": "chat", "content": "[{\"role\":\"system\",\"content\":\"You answer for {{company}}. {{> tone}}\"},{\"role\":\"placeholder\",\"name\":\"history\"},{\"role\":\"user\",\"content\":\"{{question}}\"}]",
   "variables": {"company": "ACME", "question": "Where?", "mood": "calm", "history": [{"role": "user", "content": "hi {{company}}"}, {"role": "assistant", "content": "hello", "name": "bot"}]},
   "includes": {"tone": "Be {{mood}}."}, "path": ["support"]},
  {"kind": "chat", "content": "[{\"role\":\"placeholder\",\"name\":\"history\"},{\"role\":\"user\",\"content\":\"{{q}}\"}]", "variables": {"q": "x", "history": "not a list"}},
  {"kind": "chat", "content": "[{\"role\":\"placeholder\",\"name\":\"history\"}]", "variables": {"history": [{"content": "no role"}]}},
  {"kind": "chat", "content": "[{\"role\":\"user\",\"content\":\"{{a}}\"},{\"role\":\"placeholder\",\"name\":\"h\"}]", "variables": {"a": "x"}},
  {"content": "{{big}}", "variables": {"big": "${BIG}"}},
  {"content": "😀{{big}}", "variables": {"big": "${"😀".repeat(999_999)}"}},
  {"content": "😀😀{{big}}", "variables": {"big": "${"😀".repeat(1_999_999)}"}}
]`;

const PYTHON = `
import json, sys
from promptdeck.domain import templates
from promptdeck.errors import PromptdeckError
out = []
for case in json.loads(sys.stdin.read()):
    texts = case.get("includes")
    resolve = None if texts is None else (lambda ref, texts=texts: texts[str(ref)])
    try:
        r = templates.render(case.get("kind", "text"), "plain", case["content"], case["variables"],
                             resolve=resolve, path=tuple(case.get("path", ())))
        out.append({"value": r.value(), "unused": r.unused})
    except PromptdeckError as exc:
        out.append({"error": exc.code, "detail": exc.detail})
sys.stdout.write(json.dumps(out))
`;

function python(script: string, input: string): string {
  return execFileSync(join(PYTHON_BIN, "python"), ["-c", script], { input, maxBuffer: 64 * 1024 * 1024 }).toString();
}

function ours(c: Case): { value: unknown; unused: string[] } | { error: string; detail: string } {
  const texts = c.includes;
  const resolve =
    texts === undefined
      ? null
      : (ref: IncludeRef): string => {
          const text = texts[String(ref)];
          if (text === undefined) throw new Error(`no text for ${String(ref)}`);
          return text;
        };
  try {
    const out: Rendered = render(c.kind ?? "text", "plain", c.content, c.variables, { resolve, path: c.path ?? [] });
    return { value: renderedValue(out), unused: out.unused };
  } catch (exc) {
    if (exc instanceof PromptdeckError) return { error: exc.code, detail: exc.detail };
    throw exc;
  }
}

test("every render case gives exactly what the Python render gives, output or error", () => {
  const expected = JSON.parse(python(PYTHON, CASES_JSON)) as unknown[];
  const cases = parsePython(CASES_JSON) as Case[];
  assert.equal(expected.length, cases.length);
  cases.forEach((c, i) => {
    assert.deepEqual(ours(c), expected[i], `case ${i}: ${c.content.slice(0, 80)}`);
  });
  // the cases reach every branch that matters: errors of each kind, and outputs
  const codes = new Set(expected.map((e) => (e as { error?: string }).error ?? "ok"));
  assert.deepEqual(
    [...codes].sort(),
    ["missing-variables", "ok", "render-too-large", "template-invalid"],
  );
});

test("non-string values are written as Python's json.dumps(ensure_ascii=False) writes them", () => {
  const values = String.raw`[0, -1, 1.0, -0.0, 0.5, 1e16, 1e-5, 1.25e-7, 3.141592653589793, 2e-308, 1e21, 12345678901234.5,
    "ctl \u0000 \u001f \u007f é 😀", {"x": [1, {"y": null}], "7": true}, [[], {}], NaN, -Infinity]`;
  const expected = JSON.parse(
    python("import json,sys\nsys.stdout.write(json.dumps([json.dumps(v, ensure_ascii=False) for v in json.loads(sys.stdin.read())]))", values),
  ) as string[];
  const parsed = parsePython(values) as unknown[];
  assert.deepEqual(
    parsed.map((v) => pyJson(v)),
    expected,
  );
  assert.equal(pyJson(new JsonFloat(2)), "2.0");
  assert.equal(pyJson(new Map<unknown, unknown>([[1, "a"], [true, null], ["b", 2]])), '{"1": "a", "true": null, "b": 2}');
});

test("a value that is not JSON is refused naming the variable, and undefined counts as missing", () => {
  assert.throws(() => render("text", "plain", "{{d}}", { d: new Date(0) }), (exc: unknown) => {
    assert.ok(exc instanceof TemplateInvalid);
    assert.equal(exc.detail, "variable 'd': a string, number, boolean or JSON value");
    return true;
  });
  assert.throws(() => render("text", "plain", "{{d}}", { d: [() => 1] }), TemplateInvalid);
  assert.throws(() => render("text", "plain", "{{d}}", { d: undefined }), MissingVariables);
  assert.throws(() => render("text", "jinja", "{% if x %}{{x}}{% endif %}", { x: 1 }), /only the server renders/);
});

test("a contract check installed with setVariableCheck runs before a version with a contract renders", async () => {
  const client = new Client({ baseUrl: server.url, logger: null });
  const name = uniqueName("render");
  const created = await client.createPrompt(name, "Hi {{name}}");
  const version = await client.getVersion(name, created.activeVersion?.id ?? 0);
  const seen: unknown[] = [];
  setVariableCheck((contract, values) => {
    seen.push(contract);
    if (typeof values["name"] !== "string") throw new InvalidInput("name: a string", { field: "name" });
  });
  try {
    assert.equal(version.render({ name: 1 }), "Hi 1"); // no contract on the version: not checked
    const withContract = Object.assign(Object.create(Object.getPrototypeOf(version) as object) as object, {
      ...version,
      contract: { type: "object" },
    }) as typeof version;
    assert.throws(() => withContract.render({ name: 1 }), InvalidInput);
    assert.equal(withContract.render({ name: "Ada" }), "Hi Ada");
    assert.deepEqual(seen, [{ type: "object" }, { type: "object" }]);
  } finally {
    setVariableCheck(contractVariableCheck); // the default, for the tests after this one
    await client.close();
  }
});

// --- rendering where the application runs ----------------------------------------------------

let server: Server;
before(async () => {
  server = await Server.shared();
});
after(async () => {
  await server.close();
});

const MESSAGES = [
  { role: "system", content: "You answer for {{company}}." },
  { role: "user", content: "{{question}}" },
];

test("a chat version renders locally to OpenAI messages and Anthropic arguments, as the server does", async () => {
  const client = new Client({ baseUrl: server.url, logger: null });
  const name = uniqueName("render");
  await client.createPrompt(name, "x");
  const created = await client.createVersion(name, { messages: MESSAGES, activate: true });
  const version = await client.getVersion(name, created.id);
  const values = { company: "ACME", question: "Where is my parcel?" };
  assert.deepEqual(version.render(values), [
    { role: "system", content: "You answer for ACME." },
    { role: "user", content: "Where is my parcel?" },
  ]);
  assert.deepEqual(version.renderAnthropic(values), {
    system: "You answer for ACME.",
    messages: [{ role: "user", content: "Where is my parcel?" }],
  });
  const served = await client.render(name, values);
  assert.deepEqual(served.messages, version.render(values));
  assert.deepEqual((await client.getActive(name)).render(values), served.messages);
  const again = await client.createVersion(name, { messages: MESSAGES, ifChanged: true });
  assert.equal(again.id, created.id);
  await client.close();
});

test("getActive renders includes from the cache with the server down, pinned ones too", async () => {
  const own = await Server.start();
  const rec = new Recorder();
  const clock = new FakeClock();
  const client = new Client({ baseUrl: own.url, cacheTtl: 60, clock: clock.clock, fetch: rec.fetch, logger: null, retries: 0 });
  try {
    await client.createPrompt("tone", "Be {{mood}}.");
    await client.createVersion("tone", { content: "Be very {{mood}}.", versionName: "tone-v2" });
    await client.createPrompt("sign", "-- {{team}}");
    await client.createVersion("sign", { content: "Regards, {{team}}", activate: true });
    const secondSign = await client.getActive("sign");
    await client.moveLabel("sign", "staging", secondSign.versionId);
    await client.createPrompt("reply", "{{> tone@1}} {{> tone@tone-v2}} {{> tone}} Answer {{q}}. {{> sign@staging}}");
    await client.createPrompt("outer", "[{{> reply}}]");
    const values = { mood: "kind", q: "{{mood}}", team: "Ops" };
    const first = (await client.getActive("outer")).render(values);
    assert.equal(first, "[Be kind. Be very kind. Be kind. Answer {{mood}}. Regards, Ops]");
    assert.equal(await client.renderActive("outer", values), first);
    assert.equal((await client.render("outer", values)).text, first); // the server agrees
    await own.stop();
    const before = rec.requests.length;
    assert.equal((await client.getActive("outer")).render(values), first);
    assert.equal(rec.requests.length, before); // fresh copies: no request at all
    clock.advance(120); // past the TTL, the server down: the last good copies
    const stale = await client.getActive("outer");
    assert.equal(stale.source, "stale");
    assert.equal(stale.render(values), first);
    assert.ok(client.pinned.versions.size >= 2); // tone@1 and tone@tone-v2, kept for good
  } finally {
    await client.close();
    await own.close();
  }
});

test("a copy whose include cannot be resolved is still served and says why on render", async () => {
  const client = new Client({ baseUrl: server.url, cacheTtl: 60, logger: null });
  const tone = uniqueName("tone");
  const reply = uniqueName("reply");
  await client.createPrompt(tone, "Be {{mood}}.");
  await client.moveLabel(tone, "staging", (await client.getActive(tone)).versionId);
  await client.createPrompt(reply, `{{> ${tone}@staging}} {{q}}`);
  await client.removeLabel(tone, "staging");
  const served = await client.getActive(reply); // the fetch itself does not fail
  await client.close();
  assert.equal(served.content, `{{> ${tone}@staging}} {{q}}`);
  assert.throws(() => served.render({ mood: "kind", q: "?" }), (exc: unknown) => {
    assert.ok(exc instanceof TemplateInvalid);
    assert.match(exc.detail, new RegExp(`${tone}@staging.*could not be resolved`));
    return true;
  });
});

test("a Jinja version is rendered by the server through renderActive, and says so when rendered here", async () => {
  const client = new Client({ baseUrl: server.url, logger: null });
  const name = uniqueName("jinja");
  await client.createPrompt(name, "{% for x in items %}[{{ x }}]{% endfor %}", { templateFormat: "jinja" });
  const active = await client.getActive(name);
  assert.equal(active.templateFormat, "jinja");
  assert.throws(() => active.render({ items: [1, 2] }), TemplateInvalid);
  assert.equal(await client.renderActive(name, { items: [1, 2] }), "[1][2]");
  await client.close();
});
