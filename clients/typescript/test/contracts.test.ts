/** The contract's checks: the same outcome as the Python code (`domain/contracts/`) on
 * generated schemas and values, the bounds, the pattern subset matched in linear time (the
 * same answers as JavaScript's RegExp with the `u` flag where that one finishes). */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";

import {
  checkContract,
  checkPattern,
  ContractInvalid,
  contractVariableCheck,
  errorFrom,
  JsonFloat,
  limits,
  NOT_JSON,
  Pattern,
  PatternError,
  PromptdeckError,
  VariablesInvalid,
  VariablesTooLarge,
  Version,
  type VersionFields,
} from "promptdeck";

import { pattern, Random, text, variablesCase, type Json } from "./generate.js";
import { PYTHON_BIN } from "./support.js";

function python(script: string, input: unknown): unknown {
  const out = execFileSync(join(PYTHON_BIN, "python"), ["-c", script], {
    input: JSON.stringify(input),
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out.toString());
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (exc) {
    return exc;
  }
  return null;
}

// --- patterns ---------------------------------------------------------------------------------

test("a pattern of the subset matches what JavaScript's RegExp (u flag) matches, on 4,000 generated pairs", () => {
  const r = new Random(2026);
  let matched = 0;
  for (let i = 0; i < 1000; i++) {
    const source = pattern(r);
    const ours = new Pattern(source);
    const theirs = new RegExp(source, "u");
    for (let j = 0; j < 4; j++) {
      const t = j === 0 ? "" : text(r);
      const want = theirs.test(t);
      assert.equal(ours.test(t), want, `/${source}/u on ${JSON.stringify(t)}`);
      if (want) matched += 1;
    }
  }
  assert.ok(matched > 400 && matched < 3600, `both answers seen: ${matched} matches`); // the test can fail
});

test("a pattern that backtracks in RegExp runs in linear time here (^(a+)+$ on 200,000 characters)", () => {
  const started = performance.now();
  const hostile = new Pattern("^(a+)+$");
  assert.equal(hostile.test(`${"a".repeat(200_000)}b`), false);
  assert.equal(hostile.test("a".repeat(200_000)), true);
  const counted = new Pattern("^(a|aa){1,300}$"); // 900 states, many alive at once
  assert.equal(counted.test(`${"a".repeat(50_000)}!`), false);
  const ms = performance.now() - started;
  // RegExp takes about 2 s on 28 characters of the first, and doubles with each one more.
  console.log(`figure: ^(a+)+$ on 200,000 characters (twice) and (a|aa){1,300} on 50,000: ${ms.toFixed(0)} ms`);
});

test("a pattern whose DFA has more states than the cache holds still answers as RegExp does", () => {
  // 2**13 DFA states: the state cache (4,096) is dropped and rebuilt along the text.
  const source = "a[ab]{12}$"; // linear in RegExp too: 13 steps from each start
  const ours = new Pattern(source);
  const theirs = new RegExp(source, "u");
  const r = new Random(5);
  for (let i = 0; i < 8; i++) {
    let t = "";
    for (let j = 0; j < 10_000; j++) t += r.chance(0.5) ? "a" : "b";
    t += r.chance(0.5) ? "b".repeat(13) : "";
    assert.equal(ours.test(t), theirs.test(t));
  }
});

const REFUSED = [
  "(?=a)", "(?!a)", "(?<=a)", "(?<n>a)", "(a)\\1", "\\b", "\\B", "\\p{L}", "\\cA", "\\0", "(?i)a", "[]", "[^]",
  "]", "a{", "}", "a{,3}", "a{3,2}", "a{1001}", "a**", "^*", "$+", "(a", "a)", "[a", "\\", "\\ud800", "\\u{110000}",
  "\\u{}", "\\x1", "[b-a]", "[\\d-z]", "[a-\\w]", "[[]", "\\q", "a{2}{3}", ((s: string) => s)("x".repeat(1001)),
  "(((((((((((((((((a)))))))))))))))))", "(a{10}){101}", "\ud800", "a\udc00", "é{2}😀+",
  "(a|b)*c", "[\\]\\-]", "\\/\\^\\$", "\\u{1F600}", "[😀-😂]", "((((((((((((((((a))))))))))))))))",
]; // prettier-ignore

test("a pattern is refused or accepted as the Python parser does, with the same message", () => {
  const script = `
import json, sys
from promptdeck.domain.contracts.pattern import PatternError, check_pattern
out = []
for p in json.loads(sys.stdin.read()):
    try:
        check_pattern(p)
        out.append(None)
    except PatternError as exc:
        out.append(str(exc))
print(json.dumps(out))`;
  const expected = python(script, REFUSED) as Array<string | null>;
  const ours = REFUSED.map((p) => {
    try {
      checkPattern(p);
      return null;
    } catch (exc) {
      assert.ok(exc instanceof PatternError);
      return exc.message;
    }
  });
  assert.deepEqual(ours, expected);
  assert.ok(expected.filter((e) => e === null).length >= 5 && expected.filter((e) => e !== null).length >= 30);
});

// --- the variables' checks against the Python code ------------------------------------------

const PYTHON_CHECK = `
import json, sys
from promptdeck.domain.contracts import check_contract, check_variables
from promptdeck.errors import PromptdeckError
out = []
for case in json.loads(sys.stdin.read()):
    try:
        check_variables(check_contract(case["contract"]), case["variables"])
        out.append(None)
    except PromptdeckError as exc:
        out.append({"code": exc.code, "detail": exc.detail, "field": exc.field, "errors": exc.extra.get("errors")})
print(json.dumps(out))`;

interface Case {
  contract: Json;
  variables: { [key: string]: Json };
}

function ours(c: Case): unknown {
  try {
    const checked = checkContract(c.contract);
    contractVariableCheck({ variables: checked.variables, variables_inferred: false }, c.variables);
    return null;
  } catch (exc) {
    if (!(exc instanceof PromptdeckError)) throw exc;
    return { code: exc.code, detail: exc.detail, field: exc.field, errors: exc.errors };
  }
}

function compare(cases: Case[]): { valid: number; invalid: number } {
  // Through JSON both ways, so that each side reads exactly the same values.
  const sent = JSON.parse(JSON.stringify(cases)) as Case[];
  const expected = python(PYTHON_CHECK, sent) as unknown[];
  let valid = 0;
  sent.forEach((c, i) => {
    const got = ours(c);
    assert.deepEqual(got, expected[i], JSON.stringify(c));
    if (got === null) valid += 1;
  });
  return { valid, invalid: sent.length - valid };
}

test("generated schemas and values: the same outcome as the Python checks (valid, or the same error, paths and messages), 1,500 cases", () => {
  const r = new Random(23);
  const cases: Case[] = [];
  for (let i = 0; i < 1500; i++) {
    const { schema, values } = variablesCase(r);
    cases.push({ contract: { variables: schema }, variables: values });
  }
  const { valid, invalid } = compare(cases);
  assert.ok(valid > 150 && invalid > 150, `valid ${valid}, invalid ${invalid}`);
});

test("the bounds: too large to check, too large to list, not JSON every client reads, as the Python checks say", () => {
  const items = { type: "object", properties: { v: { type: "array", items: { type: "string" } } } };
  const enumSchema = { type: "object", properties: { v: { type: "array", items: { enum: Array.from({ length: 1000 }, (_, i) => i) } } } };
  const cases: Case[] = [
    { contract: { variables: items }, variables: { v: Array.from({ length: 1_000_001 }, () => "x") } },
    { contract: { variables: enumSchema }, variables: { v: Array.from({ length: 30_000 }, (_, i) => i) } },
    { contract: { variables: items }, variables: { v: Array.from({ length: 60_000 }, () => 1) } },
    { contract: { variables: items }, variables: { v: Array.from({ length: 300 }, () => 1) } },
    { contract: { variables: items }, variables: { v: ["é".repeat(16_000_000)] } },
    { contract: { variables: items }, variables: { v: [2 ** 60, -(2 ** 53), 2 ** 53 - 1, 1.5] } },
  ];
  compare(cases);
});

test("values JSON cannot carry exactly are refused at their paths", () => {
  const check = (values: Record<string, unknown>): unknown => {
    try {
      contractVariableCheck({ variables: { type: "object" }, variables_inferred: false }, values);
      return null;
    } catch (exc) {
      assert.ok(exc instanceof VariablesInvalid);
      return exc.errors?.map((e) => e.path);
    }
  };
  const values = { a: NaN, b: [1, Infinity, { c: 2n }], d: new Date(0), e: { f: undefined }, g: new JsonFloat(Infinity) };
  assert.deepEqual(check(values), ["variables.a", "variables.b[1]", "variables.b[2].c", "variables.d", "variables.e.f", "variables.g"]);
  assert.deepEqual(check({ a: undefined, b: new JsonFloat(1), c: new Map([["k", [1]]]) }), null); // undefined: not given
  const error = thrown(() => contractVariableCheck({ variables: { type: "object" } }, { x: Symbol("s") }));
  assert.ok(error instanceof VariablesInvalid);
  assert.equal(error.errors?.[0]?.message, NOT_JSON);
});

// --- the contract checked whole --------------------------------------------------------------

test("generated broken contracts are refused at the same path as the Python check_contract refuses them", () => {
  const r = new Random(7);
  const breakers: Array<(s: Record<string, Json>) => void> = [
    (s) => (s["requried"] = ["a"]),
    (s) => (s["type"] = "integr"),
    (s) => (s["minLength"] = -1),
    (s) => (s["multipleOf"] = 0),
    (s) => (s["pattern"] = "(?=x)"),
    (s) => (s["enum"] = []),
    (s) => (s["$ref"] = "#/nowhere"),
    (s) => (s["properties"] = { a: { $ref: "#/properties/a" } }),
    (s) => (s["allOf"] = [{ if: {} }]),
    (s) => (s["items"] = 3),
    (s) => (s["$schema"] = "http://json-schema.org/draft-07/schema#"),
    (s) => (s["properties"] = { b: { $id: "x" } }),
    (s) => (s["required"] = ["a", "a"]),
    (s) => (s["title"] = 1),
  ];
  const cases: Case[] = [];
  for (let i = 0; i < 300; i++) {
    const { schema } = variablesCase(r);
    const broken = schema as Record<string, Json>;
    r.pick(breakers)(broken);
    cases.push({ contract: { variables: broken }, variables: {} });
  }
  const tools: Json[] = [
    [{ type: "function", function: { name: "a" } }, { type: "function", function: { name: "a" } }],
    [{ type: "function", function: { name: "ok\n" } }],
    [{ type: "function", function: { name: "x", parameters: { type: "array" } } }],
    [{ type: "tool", function: { name: "x" } }],
    [{ type: "function", function: { name: "x", extra: 1 } }],
  ];
  for (const t of tools) cases.push({ contract: { tools: t }, variables: {} });
  const formats: Json[] = [
    { type: "xml" },
    { type: "json_schema", json_schema: { name: "r" } },
    { type: "text", json_schema: {} },
    { type: "json_schema", json_schema: { name: "r", schema: { type: "object", maxLenght: 1 } } },
  ];
  for (const f of formats) cases.push({ contract: { response_format: f }, variables: {} });
  cases.push({ contract: { variables: { type: "object" }, extra: 1 }, variables: {} });
  cases.push({ contract: { variables: { type: "object", description: "x".repeat(100_001) } }, variables: {} });
  compare(cases);
});

test("a contract holding what JSON cannot store is refused naming the contract", () => {
  assert.throws(() => checkContract({ variables: { type: "object", title: "a\0b" } }), (exc: unknown) => {
    return exc instanceof ContractInvalid && exc.field === "contract" && /NUL/.test(exc.detail);
  });
  assert.throws(() => checkContract({ variables: { type: "object", minimum: new JsonFloat(1e16) } }), /below 1e\+15/);
  assert.throws(() => checkContract({ variables: { type: "object", default: new Date(0) } }), /Date is not a JSON value/);
  assert.throws(() => checkContract(null), (exc: unknown) => exc instanceof ContractInvalid && exc.field === "contract");
});

// --- on a version, and from the server --------------------------------------------------------

function version(contract: unknown): Version {
  const fields: VersionFields = {
    id: 1, promptId: 1, number: 1, versionName: "v1", description: "", createdAt: "", createdBy: "",
    contentHash: "", active: true, archived: false, archivedAt: null, purged: false, purgedAt: null,
    purgedBy: null, purgeReason: null, kind: "text", templateFormat: "plain", content: "Hi {{name}} ({{age}})",
    messages: null, variables: ["name", "age"], modelConfig: {}, previousVersionId: null, contract,
  }; // prettier-ignore
  return new Version(fields);
}

test("a version with a contract checks its variables before it renders, by default, listing every failing path", () => {
  const schema = {
    type: "object",
    properties: { name: { type: "string", minLength: 1 }, age: { type: "integer", minimum: 0 } },
    required: ["name", "age"],
  };
  const checked = version({ variables: schema, variables_inferred: false, tools: [], response_format: null });
  assert.equal(checked.render({ name: "Ada", age: 36 }), "Hi Ada (36)");
  const error = thrown(() => checked.render({ name: "", age: -1.5 }));
  assert.ok(error instanceof VariablesInvalid);
  assert.equal(error.status, null);
  assert.equal(error.field, "variables");
  assert.deepEqual(error.errors, [
    { path: "variables.age", message: "expected integer" },
    { path: "variables.name", message: "must be at least 1 character" },
  ]);
  assert.equal(
    error.detail,
    "the variables do not match the contract: variables.age: expected integer; variables.name: must be at least 1 character",
  );
  // An inferred contract is descriptive: a number still renders as JSON text.
  const inferred = version({ variables: { ...schema, properties: {} }, variables_inferred: true, tools: [], response_format: null });
  assert.equal(inferred.render({ name: 1, age: "x" }), "Hi 1 (x)");
  assert.equal(version(null).render({ name: 1, age: 2 }), "Hi 1 (2)");
  // A schema outside the vocabulary (never stored by a server) refuses every render.
  assert.throws(() => version({ variables: { type: "object", nope: 1 } }).render({ name: "a", age: 1 }), ContractInvalid);
});

test("an error answer keeps the problem's errors list, typed", () => {
  const body = {
    type: "https://promptdeck.dev/problems/variables-invalid",
    title: "Variables do not match the contract",
    status: 422,
    detail: "the variables do not match the contract: variables.a: expected string",
    field: "variables",
    errors: [{ path: "variables.a", message: "expected string" }],
  };
  const error = errorFrom(422, body, JSON.stringify(body), "Unprocessable Entity");
  assert.ok(error instanceof VariablesInvalid);
  assert.deepEqual(error.errors, [{ path: "variables.a", message: "expected string" }]);
  assert.equal(errorFrom(422, { ...body, errors: "x" }, "", "").errors, null);
  assert.ok(errorFrom(422, { ...body, type: "…/variables-too-large", errors: undefined }, "", "") instanceof VariablesTooLarge);
});

test("the limits are the server's (promptdeck/limits.py)", () => {
  const names = Object.keys(limits);
  const script = `
import json, sys
from promptdeck import limits
print(json.dumps({name: getattr(limits, name) for name in json.loads(sys.stdin.read())}))`;
  assert.ok(names.length >= 15);
  assert.deepEqual({ ...limits }, python(script, names));
});
