/**
 * Generated inputs for the contract tests, from a seeded generator (the same cases on every
 * run, counted, never timed): patterns of the supported subset with texts to match, variables
 * schemas of the supported vocabulary with values near them.
 */

/** A small seeded generator (mulberry32). */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

// --- patterns ---------------------------------------------------------------------------------

// Characters of the texts: ASCII, the line terminators "." refuses, white space \s takes,
// a non-ASCII letter and digit, an astral character.
export const TEXT_CHARS = ["a", "b", "c", "A", "_", "0", "7", "-", ".", " ", "\n", "\r", "\t", "\u2028", "\u00a0", "\ufeff", "é", "٣", "😀", "/"];
const ATOMS = [
  "a", "b", "c", "A", "0", "7", "é", "😀", ".", "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\.", "\\/",
  "\\n", "\\t", "\\x61", "\\u0062", "\\u{1F600}", "[abc]", "[^ab]", "[a-c0-9]", "[^\\s]", "[\\d_]", "[.]",
  "[a-]", "[-a]", "[\\-x]", "[é😀]", "[^😀]", "[\\u{1F600}-\\u{1F64F}]",
]; // prettier-ignore
const QUANTIFIERS = ["", "", "", "*", "+", "?", "{2}", "{1,}", "{0,2}", "{1,3}", "*?", "+?", "??", "{0,1}?"];

/** A pattern of the subset, no nesting of unbounded repetitions (so a backtracking RegExp
 * stays fast on short texts). */
export function pattern(r: Random, depth = 0): string {
  const parts: string[] = [];
  if (depth === 0 && r.chance(0.4)) parts.push("^");
  const n = r.int(1, 4);
  for (let i = 0; i < n; i++) {
    let atom: string;
    if (depth < 2 && r.chance(0.2)) {
      const inner = [pattern(r, depth + 1)];
      if (r.chance(0.4)) inner.push(pattern(r, depth + 1));
      atom = `(${r.chance(0.5) ? "?:" : ""}${inner.join("|")})`;
      parts.push(atom + r.pick(["", "", "?", "{0,2}", "{2}"]));
    } else {
      parts.push(r.pick(ATOMS) + r.pick(QUANTIFIERS));
    }
  }
  if (depth === 0 && r.chance(0.4)) parts.push("$");
  const seq = parts.join("");
  return depth === 0 && r.chance(0.15) ? `${seq}|${pattern(r, 1)}` : seq;
}

export function text(r: Random, max = 8): string {
  const n = r.int(0, max);
  let out = "";
  for (let i = 0; i < n; i++) out += r.pick(TEXT_CHARS);
  return out;
}

// --- schemas and values -----------------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const NAMES = ["a", "b", "name", "age", "$x", "a b", "1", "é", "tags"];
const STRINGS = ["", "a", "ab", "abc", "Ada", "x y", "é😀", "123", "a\nb", "  "];
const NUMBERS = [0, 1, -1, 2, 3, 7, 10, 2.5, -1.5, 0.1, 1e-7, 100, 12.25];
const PATTERNS = ["^[a-z]+$", "a", "^\\d+$", "^.$", "\\s", "^(a+)+$", "^[^ab]*$", "x|y", "^\\w{2,3}$", "é|😀"];
const TYPES = ["null", "boolean", "object", "array", "number", "integer", "string"];

export function value(r: Random, depth = 0): Json {
  const roll = r.int(0, depth >= 3 ? 4 : 6);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick(NUMBERS);
    case 3:
    case 4:
      return r.pick(STRINGS);
    case 5: {
      const n = r.int(0, 4);
      return Array.from({ length: n }, () => (r.chance(0.3) ? r.pick(NUMBERS) : value(r, depth + 1)));
    }
    default: {
      const out: { [key: string]: Json } = {};
      for (let i = r.int(0, 4); i > 0; i--) out[r.pick(NAMES)] = value(r, depth + 1);
      return out;
    }
  }
}

function scalarOf(r: Random): Json {
  return r.pick<Json>([null, true, false, ...NUMBERS, ...STRINGS.slice(0, 5)]);
}

export function schema(r: Random, depth = 0, defs = false): Json {
  if (depth > 0 && r.chance(0.08)) return r.chance(0.7);
  const s: { [key: string]: Json } = {};
  if (r.chance(0.6)) {
    if (r.chance(0.2)) s["type"] = [r.pick(TYPES), "null"].filter((t, i, all) => all.indexOf(t) === i);
    else s["type"] = r.pick(TYPES);
  }
  const kind = Array.isArray(s["type"]) ? s["type"][0] : s["type"];
  const add = (p: number, key: string, make: () => Json): void => {
    if (r.chance(p)) s[key] = make();
  };
  if (kind === undefined || kind === "number" || kind === "integer") {
    add(0.2, "minimum", () => r.pick(NUMBERS));
    add(0.2, "maximum", () => r.pick(NUMBERS));
    add(0.1, "exclusiveMinimum", () => r.pick(NUMBERS));
    add(0.1, "exclusiveMaximum", () => r.pick(NUMBERS));
    add(0.15, "multipleOf", () => r.int(1, 4));
  }
  if (kind === undefined || kind === "string") {
    add(0.2, "minLength", () => r.int(0, 3));
    add(0.2, "maxLength", () => r.int(0, 3));
    add(0.3, "pattern", () => r.pick(PATTERNS));
  }
  if ((kind === undefined || kind === "array") && depth < 3) {
    add(0.5, "items", () => schema(r, depth + 1, defs));
    add(0.2, "prefixItems", () => Array.from({ length: r.int(1, 2) }, () => schema(r, depth + 1, defs)));
    add(0.15, "minItems", () => r.int(0, 3));
    add(0.15, "maxItems", () => r.int(0, 3));
    add(0.2, "uniqueItems", () => r.chance(0.8));
  }
  if ((kind === undefined || kind === "object") && depth < 3) {
    const props: { [key: string]: Json } = {};
    for (let i = r.int(0, 3); i > 0; i--) props[r.pick(NAMES)] = schema(r, depth + 1, defs);
    if (r.chance(0.7)) s["properties"] = props;
    add(0.4, "required", () => [...new Set(Array.from({ length: r.int(0, 3) }, () => r.pick(NAMES)))]);
    add(0.3, "additionalProperties", () => (r.chance(0.6) ? false : schema(r, depth + 1, defs)));
    add(0.1, "minProperties", () => r.int(0, 2));
    add(0.1, "maxProperties", () => r.int(0, 2));
  }
  add(0.1, "enum", () => Array.from({ length: r.int(1, 12) }, () => (r.chance(0.8) ? scalarOf(r) : value(r, 2))));
  add(0.05, "const", () => (r.chance(0.8) ? scalarOf(r) : value(r, 2)));
  if (depth < 2) {
    add(0.08, "allOf", () => Array.from({ length: r.int(1, 2) }, () => schema(r, depth + 1, defs)));
    add(0.08, "anyOf", () => Array.from({ length: r.int(1, 3) }, () => schema(r, depth + 1, defs)));
    add(0.06, "oneOf", () => Array.from({ length: r.int(1, 3) }, () => schema(r, depth + 1, defs)));
    add(0.05, "not", () => schema(r, depth + 1, defs));
  }
  if (defs) add(0.1, "$ref", () => r.pick(["#/$defs/word", "#/$defs/count"]));
  add(0.05, "description", () => "annotated");
  return s;
}

/** A variables schema (its root an object) and values near it: its properties' names with
 * values of any kind, often of the right one. */
export function variablesCase(r: Random): { schema: Json; values: { [key: string]: Json } } {
  const root = schema(r, 1, true) as { [key: string]: Json };
  if (typeof root !== "object" || root === null || Array.isArray(root)) return variablesCase(r);
  root["type"] = "object";
  root["$defs"] = { word: { type: "string", maxLength: 4 }, count: { type: "integer", minimum: 0 } };
  delete root["$ref"];
  const names = Object.keys((root["properties"] as object | undefined) ?? {});
  const values: { [key: string]: Json } = {};
  for (const name of [...names, ...NAMES.slice(0, 2)]) if (r.chance(0.7)) values[name] = value(r, 1);
  return { schema: root, values };
}
