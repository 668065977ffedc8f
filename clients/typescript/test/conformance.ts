/**
 * The shared render conformance fixtures (`conformance/render/*.json` at the repository's
 * root), run against this client's render. The format is read leniently, since the fixtures
 * are written by the Python side: a file is a list of cases or `{"cases": [...]}`; a case has
 *
 * - `name` (or `id`); `kind` ("text" | "chat"); `template_format` ("plain" | "jinja");
 * - `content` (text, or chat messages as JSON) or `messages` (a list);
 * - `variables` (or `values`); `includes` (`{"other@3": "its text"}`) and `path` / `prompt`;
 * - `contract`: checked with the installed `setVariableCheck` hook before rendering;
 * - `expected` (or `output`, `expect`): the text, the messages, or `{"text"|"messages", "unused"}`;
 *   or `error`: a code (`"missing-variables"`) or `{"code", "detail"}`.
 *
 * Jinja cases are skipped (the server renders Jinja), and so are contract cases while no
 * contract check is installed.
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import {
  checkVariables,
  hasVariableCheck,
  IncludeRef,
  JsonFloat,
  PromptdeckError,
  render,
  renderedValue,
  type Variables,
} from "promptdeck";

import { parsePython } from "./pyparse.js";

export interface Outcome {
  file: string;
  name: string;
  status: "pass" | "fail" | "skip";
  why?: string;
}

type Dict = Record<string, unknown>;

/** Plain JSON for comparison: floats as numbers, Maps as objects. */
function plain(value: unknown): unknown {
  if (value instanceof JsonFloat) return value.value;
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(plain(a)) === JSON.stringify(plain(b));
}

function pick(c: Dict, ...keys: string[]): unknown {
  for (const key of keys) if (c[key] !== undefined) return c[key];
  return undefined;
}

function runCase(c: Dict): { status: Outcome["status"]; why?: string } {
  const format = String(pick(c, "template_format", "templateFormat", "format") ?? "plain");
  if (format === "jinja") return { status: "skip", why: "Jinja: rendered by the server only" };
  const contract = pick(c, "contract");
  if (contract !== undefined && contract !== null && !hasVariableCheck()) {
    return { status: "skip", why: "no contract check installed yet" };
  }
  const messages = pick(c, "messages");
  const kind = String(pick(c, "kind") ?? (messages !== undefined ? "chat" : "text"));
  const content = messages !== undefined ? JSON.stringify(plain(messages)) : String(pick(c, "content", "template") ?? "");
  const values = (pick(c, "variables", "values") ?? {}) as Variables;
  const texts = pick(c, "includes") as Dict | undefined;
  const resolve =
    texts === undefined
      ? null
      : (ref: IncludeRef): string => {
          const text = texts[String(ref)];
          if (typeof text !== "string") throw new Error(`the case gives no text for {{> ${String(ref)}}}`);
          return text;
        };
  const prompt = pick(c, "prompt", "prompt_name");
  const path = (pick(c, "path") as string[] | undefined) ?? (typeof prompt === "string" ? [prompt] : []);
  const error = pick(c, "error");
  const expected = pick(c, "expected", "output", "expect");
  try {
    checkVariables(contract, values);
    const out = render(kind, format, content, values, { resolve, path });
    if (error !== undefined) return { status: "fail", why: `rendered, expected the error ${JSON.stringify(error)}` };
    const e = expected as Dict | string | unknown[];
    const value = renderedValue(out);
    if (typeof e === "object" && e !== null && !Array.isArray(e)) {
      const want = e["text"] ?? e["messages"] ?? e["value"];
      if (!same(value, want)) return { status: "fail", why: `got ${JSON.stringify(value)}` };
      if (e["unused"] !== undefined && !same(out.unused, e["unused"])) {
        return { status: "fail", why: `unused ${JSON.stringify(out.unused)}` };
      }
      return { status: "pass" };
    }
    return same(value, e) ? { status: "pass" } : { status: "fail", why: `got ${JSON.stringify(value)}` };
  } catch (exc) {
    if (!(exc instanceof PromptdeckError)) throw exc;
    if (error === undefined) return { status: "fail", why: `${exc.code}: ${exc.detail}` };
    const want = typeof error === "string" ? { code: error } : (error as Dict);
    const code = String(want["code"] ?? want["type"] ?? "");
    if (code && !code.endsWith(exc.code)) return { status: "fail", why: `${exc.code}: ${exc.detail}` };
    if (typeof want["detail"] === "string" && want["detail"] !== exc.detail) {
      return { status: "fail", why: `detail ${JSON.stringify(exc.detail)}` };
    }
    return { status: "pass" };
  }
}

/** Every case of every `*.json` in `dir` (none when the folder does not exist). */
export function runConformance(dir: string): Outcome[] {
  if (!existsSync(dir)) return [];
  const out: Outcome[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const parsed = parsePython(readFileSync(join(dir, file), "utf8"));
    const cases = (Array.isArray(parsed) ? parsed : ((parsed as Dict)["cases"] as unknown[])) ?? [];
    cases.forEach((raw, i) => {
      const c = plainKeys(raw);
      const name = String(pick(c, "name", "id", "description") ?? `case ${i}`);
      out.push({ file, name, ...runCase(c) });
    });
  }
  return out;
}

function plainKeys(raw: unknown): Dict {
  if (raw instanceof Map) return Object.fromEntries(raw) as Dict;
  return (raw ?? {}) as Dict;
}
