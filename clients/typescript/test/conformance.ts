/**
 * The shared render conformance fixtures (`conformance/render/*.json` at the repository's
 * root; their README is the format), run against this client as
 * `tests/conformance/test_render_conformance.py` runs them against the server's code: the
 * contract checked whole, the variables checked against it, then the render; the outcome is
 * the text, the messages, or the error (`code`, and `paths` and `errors` from the error's
 * `errors` list, or the contract's path; `detail` for missing variables), and every key the
 * case expects must match exactly.
 *
 * A Jinja case runs as far as this client goes: the contract and the variable checks, when it
 * expects them to refuse; it is skipped when it expects a render (the server renders Jinja).
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { checkContract, checkVariables, JsonFloat, PromptdeckError, render, renderedValue, type Variables } from "promptdeck";

import { parsePython } from "./pyparse.js";

export interface Outcome {
  file: string;
  name: string;
  status: "pass" | "fail" | "skip";
  why?: string;
}

type Dict = Record<string, unknown>;
const CASE_KEYS = new Set(["name", "kind", "template_format", "content", "messages", "contract", "variables", "expect"]);
const CHECKS = new Set(["contract-invalid", "variables-invalid", "variables-too-large"]);

/** Plain JSON for comparison: floats as numbers, Maps as objects. */
export function plain(value: unknown): unknown {
  if (value instanceof JsonFloat) return value.value;
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** JSON equality as Python's `==` sees it: objects whatever their key order. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sorted(v)]),
    );
  }
  return value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sorted(plain(a))) === JSON.stringify(sorted(plain(b)));
}

function dict(value: unknown): Dict {
  return (value instanceof Map ? Object.fromEntries(value) : (value ?? {})) as Dict;
}

/** What this client does with a case: `{text}`, `{messages}` or `{error: {code, …}}`. */
export function outcome(c: Dict, renderIt = true): Dict | null {
  const kind = String(c["kind"]);
  const format = String(c["template_format"]);
  const values = dict(c["variables"]) as Variables;
  try {
    if (c["contract"] !== undefined) {
      const checked = checkContract(c["contract"]);
      checkVariables({ variables: checked.variables, variables_inferred: checked.variablesInferred }, values);
    }
    if (!renderIt) return null;
    const content = kind === "chat" ? JSON.stringify(plain(c["messages"])) : String(c["content"]);
    const out = render(kind, format, content, values);
    return kind === "chat" ? { messages: renderedValue(out) } : { text: renderedValue(out) };
  } catch (exc) {
    if (!(exc instanceof PromptdeckError)) throw exc;
    const error: Dict = { code: exc.code };
    if (exc.errors !== null && exc.errors.length > 0) {
      error["paths"] = exc.errors.map((e) => e.path);
      error["errors"] = exc.errors.map((e) => `${e.path}: ${e.message}`);
    } else if (exc.code === "contract-invalid") {
      error["paths"] = [exc.field];
    }
    if (exc.code === "missing-variables") error["detail"] = exc.detail;
    return { error };
  }
}

function runCase(c: Dict): { status: Outcome["status"]; why?: string } {
  const unknown = Object.keys(c).filter((k) => !CASE_KEYS.has(k));
  if (unknown.length > 0) return { status: "fail", why: `keys this runner does not know: ${unknown.join(", ")}` };
  const expect = dict(c["expect"]);
  const wanted = expect["error"] === undefined ? null : dict(expect["error"]);
  if (c["template_format"] === "jinja" && !(wanted !== null && CHECKS.has(String(wanted["code"])))) {
    return { status: "skip", why: "Jinja: rendered by the server only" };
  }
  const got = outcome(c, c["template_format"] !== "jinja");
  if (got === null) return { status: "fail", why: `the checks passed, expected ${JSON.stringify(plain(wanted))}` };
  if (wanted === null) {
    return same(got, expect) ? { status: "pass" } : { status: "fail", why: `got ${JSON.stringify(plain(got))}` };
  }
  const error = got["error"];
  if (error === undefined) return { status: "fail", why: `got ${JSON.stringify(plain(got))}, expected an error` };
  for (const [key, value] of Object.entries(wanted)) {
    if (!same((error as Dict)[key], value)) {
      return { status: "fail", why: `${key}: got ${JSON.stringify(plain(error))}` };
    }
  }
  return { status: "pass" };
}

/** Every case of every `*.json` in `dir`. */
export function runConformance(dir: string): Outcome[] {
  const out: Outcome[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const parsed = dict(parsePython(readFileSync(join(dir, file), "utf8")));
    const cases = parsed["cases"];
    if (!Array.isArray(cases)) throw new Error(`${file}: no "cases" list`);
    cases.forEach((raw: unknown, i) => {
      const c = dict(raw);
      const name = typeof c["name"] === "string" ? c["name"] : `case ${i}`;
      out.push({ file, name, ...runCase(c) });
    });
  }
  return out;
}
