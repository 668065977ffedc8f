/**
 * The contract's checks in the TypeScript client (docs/contracts.md; bench/contracts.py is
 * the server's): what a render with a contract costs, and the hostile cases of the server's
 * table at the same bounds, where this client decides validity with its own walk (the server
 * with jsonschema-rs, in Rust).
 *
 *     cd clients/typescript && npm run build && npm run build:test
 *     node build/bench/contracts.js
 */

import {
  checkContract,
  contractVariableCheck,
  limits,
  Pattern,
  PromptdeckError,
  render,
  type Variables,
} from "promptdeck";

const TYPICAL = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1, maxLength: 100 },
    age: { type: "integer", minimum: 0, maximum: 150 },
    email: { type: "string", pattern: "^[^@]+@[^@]+$" },
    tier: { enum: ["free", "pro", "enterprise"] },
    tags: { type: "array", items: { type: "string" }, maxItems: 20 },
    score: { type: "number", exclusiveMinimum: 0 },
    active: { type: "boolean" },
    notes: { type: ["string", "null"] },
    address: {
      type: "object",
      properties: { city: { type: "string" }, zip: { type: "string", pattern: "^[0-9]{5}$" } },
      required: ["city"],
    },
    lang: { const: "en" },
  },
  required: ["name", "age", "email", "tier"],
  additionalProperties: false,
};
const GOOD = {
  name: "Ada",
  age: 36,
  email: "ada@example.com",
  tier: "pro",
  tags: ["a", "b", "c"],
  score: 0.9,
  active: true,
  notes: null,
  address: { city: "London", zip: "12345" },
  lang: "en",
};
const BAD = { ...GOOD, age: "36", tier: "gold", address: { zip: "1" }, extra: 1 };
const TEMPLATE = "Hi {{name}} ({{age}}, {{email}}, {{tier}}): {{tags}} {{score}} {{active}} {{notes}} {{address}} {{lang}}";

function perCallUs(f: () => unknown, n: number): number {
  for (let i = 0; i < Math.min(n, 2000); i++) f(); // warm-up (JIT)
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - t0) / n) * 1000;
}

function refused(f: () => unknown): () => void {
  return () => {
    try {
      f();
    } catch (exc) {
      if (!(exc instanceof PromptdeckError)) throw exc;
    }
  };
}

function typical(): void {
  const contract = { variables: TYPICAL, variables_inferred: false };
  const rows: Array<[string, number]> = [
    ["checkContract", perCallUs(() => checkContract({ variables: TYPICAL }), 5000)],
    ["check the variables (valid, schema compiled)", perCallUs(() => contractVariableCheck(contract, GOOD), 100_000)],
    ["check the variables (4 failing paths listed)", perCallUs(refused(() => contractVariableCheck(contract, BAD)), 50_000)],
    ["compile the schema (first check of a copy)", perCallUs(() => contractVariableCheck({ variables: structuredClone(TYPICAL) }, GOOD), 2000)],
    ["render without a contract", perCallUs(() => render("text", "plain", TEMPLATE, GOOD), 100_000)],
    ["new Pattern (^[^@]+@[^@]+$)", perCallUs(() => new Pattern("^[^@]+@[^@]+$"), 5000)],
  ];
  console.log("| typical 10-property schema (TypeScript) | µs per call |\n|---|---|");
  for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(1)} |`);
}

/** The variables' size as the checks count it: values, plus characters of strings and keys / 16. */
function units(value: unknown): number {
  let nodes = 0;
  let chars = 0;
  const stack = [value];
  while (stack.length > 0) {
    const x = stack.pop();
    nodes += 1;
    if (typeof x === "string") chars += [...x].length;
    else if (Array.isArray(x)) for (const item of x) stack.push(item);
    else if (x !== null && typeof x === "object") {
      for (const [k, v] of Object.entries(x)) {
        chars += [...k].length;
        stack.push(v);
      }
    }
  }
  return nodes + Math.floor(chars / 16);
}

function weightOf(schema: object): number {
  // The weight, read back from the bound's message: past it the check names the weight.
  try {
    contractVariableCheck({ variables: schema }, { v: Array.from({ length: limits.VARIABLES_SIZE_MAX + 1 }, () => 0) });
  } catch (exc) {
    const found = /schema's weight, (\d+)\)/.exec(String((exc as Error).message));
    if (found !== null) return Number(found[1]);
  }
  throw new Error("no weight");
}

function fit(weight: number, make: (n: number) => unknown, bound: number): Variables {
  const budget = Math.min(limits.VARIABLES_SIZE_MAX, Math.floor(bound / weight));
  const per = units({ v: make(1000) }) / 1000;
  let n = Math.floor((budget / per) * 0.98);
  while (units({ v: make(n) }) > budget) n = Math.floor(n * 0.95);
  return { v: make(n) };
}

function cpu(f: () => void): [number, string] {
  const t0 = process.cpuUsage();
  let outcome = "valid";
  try {
    f();
  } catch (exc) {
    if (!(exc instanceof PromptdeckError)) throw exc;
    const n = exc.errors?.length ?? 0;
    outcome = n > 0 ? `${exc.code} (${n} lines)` : exc.code;
  }
  const used = process.cpuUsage(t0);
  return [(used.user + used.system) / 1e6, outcome];
}

function hostile(): void {
  const nested: Record<string, unknown> = { type: "array", uniqueItems: true };
  let inner = nested;
  for (let i = 0; i < 12; i++) {
    inner["items"] = { type: "array", uniqueItems: true };
    inner = inner["items"] as Record<string, unknown>;
  }
  const deep = (n: number): unknown => {
    let out: unknown = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < 12; i++) out = [out];
    return out;
  };
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const obj = (n: number, f: (i: number) => unknown): object => Object.fromEntries(range(n).map((i) => [`k${i}`, f(i)]));
  const cases: Array<[string, object, (n: number) => unknown, (n: number) => unknown]> = [
    ["enum of 1,000 ints on every item", { type: "array", items: { enum: range(1000) } }, (n) => Array(n).fill(999), (n) => Array(n).fill(5000)],
    ["anyOf of 200 objects on every item", { type: "array", items: { anyOf: range(200).map((i) => ({ type: "object", properties: { k: { const: i } }, required: ["k"] })) } },
      (n) => Array.from({ length: n }, () => ({ k: 199 })), (n) => Array.from({ length: n }, () => ({ k: -1 }))],
    ["enum of 200 objects on every item", { type: "array", items: { enum: range(200).map((i) => ({ a: i })) } },
      (n) => Array.from({ length: n }, () => ({ a: 199 })), (n) => Array.from({ length: n }, () => ({ a: -1 }))],
    ["100 not-consts on one large object", { allOf: range(100).map((i) => ({ not: { const: i } })) }, (n) => obj(n, (i) => [i]), () => 5],
    ["oneOf of 500 on every item", { type: "array", items: { oneOf: range(500).map((i) => ({ minimum: i })) } }, (n) => Array(n).fill(0), (n) => Array(n).fill(600)],
    ["uniqueItems on objects", { type: "array", uniqueItems: true }, (n) => range(n).map((i) => ({ a: i })), (n) => Array.from({ length: n }, () => ({ a: 1 }))],
    ["uniqueItems at 13 levels", nested, deep, (n) => [deep(n), deep(n)]],
    ["pattern ^(a+)+$ (backtracking elsewhere)", { type: "string", pattern: "^(a+)+$" }, (n) => "a".repeat(n), (n) => `${"a".repeat(n - 1)}b`],
    ["pattern of 1,000 states", { type: "string", pattern: "^[a-z0-9]*(?:x[a-z]{1,9}[0-9]?){0,90}$" }, (n) => "ab1".repeat(n), (n) => `${"ab1".repeat(n)}!`],
    ["1,000 required, all missing", { type: "object", required: range(1000).map((i) => `r${i}`) }, () => obj(1000, () => 1), (n) => obj(n, () => 1)],
    ["allOf of 1,000 type checks", { allOf: Array(1000).fill({ type: "array" }) }, (n) => Array(n).fill(0), (n) => obj(n, () => 1)],
    ["5 patterns on every string", { type: "array", items: { allOf: range(5).map((i) => ({ pattern: `^x${i}|y$` })) } }, (n) => Array(n).fill("y".repeat(30)), (n) => Array(n).fill("z".repeat(30))],
  ]; // prettier-ignore
  console.log("\n| hostile case (value at the work bound) | weight | size | valid: CPU | invalid: CPU, answer |");
  console.log("|---|---|---|---|---|");
  let worst = 0;
  for (const [name, property, good, bad] of cases) {
    const schema = { type: "object", properties: { v: property } };
    const weight = weightOf(schema);
    const goodValue = fit(weight, good, limits.CONTRACT_CHECK_WORK_MAX);
    const badValue = fit(weight, bad, limits.CONTRACT_CHECK_WORK_MAX);
    const [tGood, goodOutcome] = cpu(() => contractVariableCheck({ variables: schema }, goodValue));
    const [tBad, badOutcome] = cpu(() => contractVariableCheck({ variables: schema }, badValue));
    worst = Math.max(worst, tGood, tBad);
    console.log(`| ${name} | ${weight} | ${units(badValue).toLocaleString("en")} | ${tGood.toFixed(3)} s (${goodOutcome}) | ${tBad.toFixed(3)} s, ${badOutcome} |`);
  }
  console.log(`\nworst: ${worst.toFixed(3)} s of CPU (the server's bound: 1 s)`);
}

console.log(`node ${process.version}, ${new Date().toISOString()}\n`);
typical();
hostile();
