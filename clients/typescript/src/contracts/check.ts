/**
 * Render variables checked against a contract's variables schema, as
 * `promptdeck/domain/contracts/check.py` checks them on the server and in the Python client:
 * the same bounds, the same failing paths with the same messages, in the same order
 * (docs/contracts.md, "Checking the variables of a render"). The server decides validity with
 * jsonschema-rs and then lists the failing paths with its own walk; here the walk (`Listing`)
 * does both, stopping at the first failure when only validity is asked.
 *
 * Values are JavaScript's: a plain object or a `Map` is an object, an array an array, a
 * number with an integer value an integer (a `JsonFloat` a float), a variable set to
 * `undefined` is not given. What no client reads exactly (NaN, an infinity, an integer past
 * 2**53 - 1, a BigInt, a Date, `undefined` inside a value…) is refused, naming where.
 */

import { VariablesInvalid, VariablesTooLarge } from "../errors.js";
import {
  CONTRACT_CHECK_WORK_MAX,
  CONTRACT_LIST_WORK_MAX,
  JSON_INT_MAX,
  VARIABLES_ERRORS_LISTED_MAX,
  VARIABLES_SIZE_MAX,
} from "../limits.js";
import { codePoints, JsonFloat } from "../pyjson.js";
import { entriesOf, isMap, isObject, NotJsonValue, readJson, type J, type JMap } from "./json.js";
import { Matcher } from "./matcher.js";
import { compareSegments, compareUnits, isScalar, plainNumber, renderPath, scalar, type Segment } from "./paths.js";
import { checkSchema, resolve } from "./schema.js";

export const ROOT = "variables";
const ENUM_LISTED_MAX = 10; // an enum of at most this many scalars is spelled out in its message
export const NOT_JSON = "is not a JSON value every client reads exactly";
const FIND_NODES_MAX = 200_000; // values looked at to find a non-JSON one (a rare, bounded walk)

type At = readonly Segment[];
type Found = [At, string];
type Obj = Record<string, unknown> | Map<unknown, unknown>;

/** A variables schema read once: its weight and what its checks keep (patterns compiled). */
export class Compiled {
  private readonly matchers = new Map<string, Matcher>();

  constructor(
    readonly schema: J,
    readonly weight: number,
  ) {}

  matches(pattern: string, text: string): boolean {
    let found = this.matchers.get(pattern);
    if (found === undefined) {
      found = new Matcher(pattern);
      this.matchers.set(pattern, found);
    }
    return found.test(text);
  }
}

/** A variables schema (as the server stored it, or as an application gave it), checked and
 * weighed: ContractInvalid naming the path when it is outside the vocabulary or bounds. */
export function compile(schema: unknown): Compiled {
  let read: J;
  try {
    read = readJson(schema, false);
  } catch (exc) {
    if (!(exc instanceof NotJsonValue)) throw exc;
    read = "not JSON"; // checkSchema says where: "a schema is an object or a boolean"
  }
  return new Compiled(read, checkSchema(read, [ROOT]));
}

// --- the variables' size, and values no client can check -------------------------------------

function isPlainInt(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) <= JSON_INT_MAX;
}

/** The variables' size, values plus characters // 16 (strings and keys), and whether all are
 * plain JSON; stops once over `budget` (size.py's walk, in its order). */
function size(values: Obj, budget: number): [number, boolean] {
  let nodes = 0;
  let chars = 0;
  let plain = true;
  const stack: unknown[] = [values];
  while (stack.length > 0) {
    const x = stack.pop();
    nodes += 1;
    if (typeof x === "string") {
      chars += codePoints(x);
    } else if (isObject(x)) {
      let keyChars = 0;
      let strings = true;
      for (const [k, v] of entriesOf(x)) {
        stack.push(v);
        if (typeof k === "string") keyChars += codePoints(k);
        else strings = false;
      }
      if (strings) chars += keyChars;
      else plain = false;
    } else if (Array.isArray(x)) {
      for (const item of x as unknown[]) stack.push(item);
      if (nodes + Math.floor(chars / 16) > budget) break;
    } else if (typeof x === "number") {
      plain &&= Number.isInteger(x) ? isPlainInt(x) : Number.isFinite(x);
    } else if (x instanceof JsonFloat) {
      plain &&= Number.isFinite(x.value);
    } else if (x !== null && typeof x !== "boolean") {
      plain = false;
    }
  }
  return [nodes + Math.floor(chars / 16), plain];
}

/** Where the values are not JSON every client reads exactly. */
function notJson(values: Obj): Found[] {
  const found: Found[] = [];
  const stack: Array<[unknown, At]> = [[values, []]];
  let seen = 0;
  while (stack.length > 0 && seen < FIND_NODES_MAX) {
    const [value, at] = stack.pop() as [unknown, At];
    seen += 1;
    if (value === null || typeof value === "string" || typeof value === "boolean") continue;
    if (typeof value === "number") {
      if (Number.isInteger(value) ? !isPlainInt(value) : !Number.isFinite(value)) found.push([at, NOT_JSON]);
    } else if (value instanceof JsonFloat) {
      if (!Number.isFinite(value.value)) found.push([at, NOT_JSON]);
    } else if (isObject(value)) {
      const entries = entriesOf(value);
      if (!entries.every(([k]) => typeof k === "string")) found.push([at, NOT_JSON]);
      else for (const [k, v] of entries) stack.push([v, [...at, k as string]]);
    } else if (Array.isArray(value)) {
      (value as unknown[]).forEach((item, i) => stack.push([item, [...at, i]]));
    } else {
      found.push([at, NOT_JSON]);
    }
  }
  return found.length > 0 ? found : [[[], NOT_JSON]];
}

// --- the listing: which paths fail, with which message ----------------------------------------

type Kind = "string" | "boolean" | "number" | "object" | "array" | "null";

function kindOf(x: unknown): Kind {
  if (x === null) return "null";
  if (typeof x === "string") return "string";
  if (typeof x === "boolean") return "boolean";
  if (typeof x === "number" || x instanceof JsonFloat) return "number";
  return Array.isArray(x) ? "array" : "object"; // anything else was refused before
}

function num(x: unknown): number {
  return x instanceof JsonFloat ? x.value : (x as number);
}

function typeOk(name: J, kind: Kind, x: unknown): boolean {
  if (name === kind) return true;
  return name === "integer" && kind === "number" && Number.isInteger(num(x));
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function or(names: readonly J[]): string {
  const words = names.map(String);
  return words.length === 1 ? (words[0] as string) : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

function countOf(x: Obj): number {
  return x instanceof Map ? x.size : Object.keys(x).length;
}

function has(x: Obj, key: string): boolean {
  return x instanceof Map ? x.has(key) : Object.hasOwn(x, key);
}

/** JSON equality as keys: `1` equals `1.0`, `true` is not `1`, objects whatever their order.
 * A container's key lists its children's numbers (each distinct value numbered once), so a
 * key costs the container's own size, and nesting costs no stack. */
class Keys {
  private readonly ids = new Map<string, number>();
  private readonly sets = new Map<readonly J[], Set<string>>();

  key(x: unknown): string {
    return Array.isArray(x) || isObject(x) ? this.container(x) : scalarKey(x);
  }

  private id(key: string): number {
    let found = this.ids.get(key);
    if (found === undefined) {
      found = this.ids.size;
      this.ids.set(key, found);
    }
    return found;
  }

  private container(root: unknown[] | Obj): string {
    interface Frame {
      array: boolean;
      items: Array<[string | null, unknown]>;
      parts: string[];
      i: number;
    }
    const frame = (v: unknown[] | Obj): Frame => {
      if (Array.isArray(v)) return { array: true, items: v.map((item) => [null, item]), parts: [], i: 0 };
      const items = entriesOf(v) as Array<[string, unknown]>;
      items.sort((p, q) => compareUnits(p[0], q[0]));
      return { array: false, items, parts: [], i: 0 };
    };
    const label = (k: string | null, id: number): string => (k === null ? String(id) : `${JSON.stringify(k)}:${id}`);
    const stack = [frame(root)];
    for (;;) {
      const top = stack[stack.length - 1] as Frame;
      if (top.i < top.items.length) {
        const [k, child] = top.items[top.i] as [string | null, unknown];
        top.i += 1;
        if (Array.isArray(child) || isObject(child)) stack.push(frame(child));
        else top.parts.push(label(k, this.id(scalarKey(child))));
        continue;
      }
      const text = (top.array ? "a" : "o") + top.parts.join(",");
      stack.pop();
      const parent = stack[stack.length - 1];
      if (parent === undefined) return text;
      const k = (parent.items[parent.i - 1] as [string | null, unknown])[0];
      parent.parts.push(label(k, this.id(text)));
    }
  }

  /** The keys of an enum's values (once per check). */
  set(options: readonly J[]): Set<string> {
    let found = this.sets.get(options);
    if (found === undefined) {
      found = new Set(options.map((v) => this.key(v)));
      this.sets.set(options, found);
    }
    return found;
  }
}

function scalarKey(x: unknown): string {
  if (typeof x === "string") return `s${x}`;
  if (typeof x === "number" || x instanceof JsonFloat) return `n${String(num(x) + 0)}`;
  return `b${String(x)}`; // null, true, false
}

/** check.py's `_Listing`: `check` returns true to stop (first-only, at the first failure). */
class Listing {
  readonly out: Found[] = [];

  constructor(
    readonly compiled: Compiled,
    readonly keys: Keys,
    readonly firstOnly = false,
  ) {}

  private add(at: At, message: string): boolean {
    if (this.firstOnly) return true;
    this.out.push([at, message]);
    return false;
  }

  private sub(at: At, segment: Segment): At {
    return this.firstOnly ? at : [...at, segment];
  }

  valid(schema: J, x: unknown): boolean {
    return !new Listing(this.compiled, this.keys, true).check(schema, x, []);
  }

  check(schema: J | undefined, x: unknown, at: At): boolean {
    if (schema === true) return false;
    if (schema === false) return this.add(at, "is not allowed");
    if (!isMap(schema)) return false;
    const kind = kindOf(x);
    const types = schema.get("type");
    if (types !== undefined) {
      const names = Array.isArray(types) ? types : [types];
      if (!names.some((n) => typeOk(n, kind, x))) return this.add(at, `expected ${or(names)}`);
    }
    const ref = schema.get("$ref");
    if (typeof ref === "string" && this.check(resolve(this.compiled.schema, ref), x, at)) return true;
    const options = schema.get("enum");
    if (Array.isArray(options) && !this.keys.set(options).has(this.keys.key(x))) {
      const spelled = options.length <= ENUM_LISTED_MAX && options.every(isScalar);
      const message = spelled ? `must be one of ${options.map(scalar).join(", ")}` : "must be one of the allowed values";
      if (this.add(at, message)) return true;
    }
    if (schema.has("const")) {
      const value = schema.get("const") ?? null;
      if (this.keys.key(x) !== this.keys.key(value)) {
        const message = isScalar(value) ? `must be ${scalar(value)}` : "must be the constant value";
        if (this.add(at, message)) return true;
      }
    }
    if (kind === "number" && this.numeric(schema, num(x), at)) return true;
    if (kind === "string" && this.text(schema, x as string, at)) return true;
    if (kind === "array" && this.array(schema, x as unknown[], at)) return true;
    if (kind === "object" && this.object(schema, x as Obj, at)) return true;
    const all = schema.get("allOf");
    if (Array.isArray(all)) for (const s of all) if (this.check(s, x, at)) return true;
    const any = schema.get("anyOf");
    if (Array.isArray(any) && !any.some((s) => this.valid(s, x))) {
      if (this.add(at, "must match at least one schema in anyOf")) return true;
    }
    const one = schema.get("oneOf");
    if (Array.isArray(one) && one.filter((s) => this.valid(s, x)).length !== 1) {
      if (this.add(at, "must match exactly one schema in oneOf")) return true;
    }
    if (schema.has("not") && this.valid(schema.get("not") ?? null, x)) {
      if (this.add(at, "must not match the schema in not")) return true;
    }
    return false;
  }

  private numeric(schema: JMap, x: number, at: At): boolean {
    const bounds: Array<[string, string, (b: number) => boolean]> = [
      ["minimum", ">=", (b) => x < b],
      ["maximum", "<=", (b) => x > b],
      ["exclusiveMinimum", ">", (b) => x <= b],
      ["exclusiveMaximum", "<", (b) => x >= b],
    ];
    for (const [key, words, fails] of bounds) {
      const bound = schema.get(key);
      if (typeof bound === "number" && fails(bound) && this.add(at, `must be ${words} ${plainNumber(bound)}`)) return true;
    }
    const m = schema.get("multipleOf");
    if (typeof m === "number" && !(Number.isInteger(x) && x % m === 0)) {
      if (this.add(at, `must be a multiple of ${plainNumber(m)}`)) return true;
    }
    return false;
  }

  private text(schema: JMap, x: string, at: At): boolean {
    const min = schema.get("minLength");
    const max = schema.get("maxLength");
    const length = typeof min === "number" || typeof max === "number" ? codePoints(x) : 0;
    if (typeof min === "number" && length < min) {
      if (this.add(at, `must be at least ${plural(min, "character", "characters")}`)) return true;
    }
    if (typeof max === "number" && length > max) {
      if (this.add(at, `must be at most ${plural(max, "character", "characters")}`)) return true;
    }
    const pattern = schema.get("pattern");
    if (typeof pattern === "string" && !this.compiled.matches(pattern, x)) {
      if (this.add(at, `must match the pattern ${pattern}`)) return true;
    }
    return false;
  }

  private array(schema: JMap, x: unknown[], at: At): boolean {
    const min = schema.get("minItems");
    const max = schema.get("maxItems");
    if (typeof min === "number" && x.length < min && this.add(at, `must have at least ${plural(min, "item", "items")}`)) {
      return true;
    }
    if (typeof max === "number" && x.length > max && this.add(at, `must have at most ${plural(max, "item", "items")}`)) {
      return true;
    }
    if (schema.get("uniqueItems") === true && new Set(x.map((v) => this.keys.key(v))).size !== x.length) {
      if (this.add(at, "must not have duplicate items")) return true;
    }
    const prefix = schema.get("prefixItems");
    const prefixed = Array.isArray(prefix) ? prefix : [];
    const items = schema.get("items");
    for (let i = 0; i < x.length; i++) {
      const sub = i < prefixed.length ? prefixed[i] : items;
      if (sub !== undefined && this.check(sub, x[i], this.sub(at, i))) return true;
    }
    return false;
  }

  private object(schema: JMap, x: Obj, at: At): boolean {
    const min = schema.get("minProperties");
    const max = schema.get("maxProperties");
    const count = countOf(x);
    if (typeof min === "number" && count < min) {
      if (this.add(at, `must have at least ${plural(min, "property", "properties")}`)) return true;
    }
    if (typeof max === "number" && count > max) {
      if (this.add(at, `must have at most ${plural(max, "property", "properties")}`)) return true;
    }
    const required = schema.get("required");
    if (Array.isArray(required)) {
      for (const name of required) {
        if (typeof name === "string" && !has(x, name) && this.add(this.sub(at, name), "is required")) return true;
      }
    }
    const properties = schema.get("properties");
    const props = isMap(properties) ? properties : null;
    const others = schema.get("additionalProperties");
    for (const [name, item] of entriesOf(x)) {
      const key = name as string;
      const sub = props?.get(key) ?? others;
      if (sub !== undefined && this.check(sub, item, this.sub(at, key))) return true;
    }
    return false;
  }
}

/** Each failing path once, sorted by path (segment by segment) then message, at most 100
 * and a last line saying how many more. */
export function lines(found: readonly Found[]): Array<{ path: string; message: string }> {
  const unique = new Map<string, Found>();
  for (const entry of found) unique.set(JSON.stringify(entry), entry);
  const sorted = [...unique.values()].sort((a, b) => compareSegments(a[0], b[0]) || compareUnits(a[1], b[1]));
  const out = sorted.map(([at, message]) => ({ path: renderPath(ROOT, at), message }));
  if (out.length > VARIABLES_ERRORS_LISTED_MAX) {
    const more = out.length - VARIABLES_ERRORS_LISTED_MAX;
    return [...out.slice(0, VARIABLES_ERRORS_LISTED_MAX), { path: ROOT, message: `${more} more failing paths not listed` }];
  }
  return out;
}

function refuse(found: Array<{ path: string; message: string }>): VariablesInvalid {
  const text = found.map((e) => `${e.path}: ${e.message}`).join("; ");
  return new VariablesInvalid(`the variables do not match the contract: ${text}`, { field: ROOT, errors: found });
}

/** The variables given: a variable set to `undefined` is not given (as the render counts it). */
function given(values: Obj): Obj {
  const entries = entriesOf(values);
  if (!entries.some(([, v]) => v === undefined)) return values;
  return new Map(entries.filter(([, v]) => v !== undefined));
}

/**
 * Check `values` against a compiled variables schema: VariablesTooLarge past the bounds,
 * VariablesInvalid listing every failing path (`errors`: `[{path, message}, …]`).
 */
export function checkCompiled(schema: Compiled, values: Obj): void {
  const vars = given(values);
  const budget = Math.min(VARIABLES_SIZE_MAX, Math.floor(CONTRACT_CHECK_WORK_MAX / schema.weight));
  const [n, plain] = size(vars, budget);
  if (n > budget) {
    throw new VariablesTooLarge(
      `the variables are too large to check against this contract: their size (${n}+: values, and ` +
        `characters / 16) is over ${budget} (at most ${VARIABLES_SIZE_MAX}, and at most ` +
        `${CONTRACT_CHECK_WORK_MAX} divided by the schema's weight, ${schema.weight})`,
      { field: ROOT },
    );
  }
  if (!plain) throw refuse(lines(notJson(vars)));
  const keys = new Keys();
  if (!new Listing(schema, keys, true).check(schema.schema, vars, [])) return;
  if (schema.weight * n > CONTRACT_LIST_WORK_MAX) {
    throw refuse([{ path: ROOT, message: "too large to list each failing path" }]);
  }
  const listing = new Listing(schema, keys);
  listing.check(schema.schema, vars, []);
  const found = lines(listing.out);
  throw refuse(found.length > 0 ? found : [{ path: ROOT, message: "do not match the contract" }]);
}

export type { JMap };
