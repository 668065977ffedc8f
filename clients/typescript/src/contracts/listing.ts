/**
 * Which paths of the variables fail, with which message: `check.py`'s `_Listing`, the
 * specification every client reproduces (docs/contracts.md, "Which failures"). At each place
 * a failing `type` is the only failure reported; `anyOf`, `oneOf` and `not` report one line
 * at their place; `allOf` and `$ref` report their schemas' failures as their own; a missing
 * required property is reported at its own path. With `firstOnly` it stops at the first
 * failure: whether the values are valid.
 */

import { codePoints, JsonFloat } from "../pyjson.js";
import { entriesOf, isObject, type J } from "./json.js";
import type { SchemaNode } from "./nodes.js";
import { plural } from "./nodes.js";
import { compareUnits, plainNumber, type Segment } from "./paths.js";

export type At = readonly Segment[];
export type Found = [At, string];
export type Obj = Record<string, unknown> | Map<unknown, unknown>;

type Kind = "string" | "boolean" | "number" | "object" | "array" | "null";

function kindOf(x: unknown): Kind {
  if (x === null) return "null";
  const t = typeof x;
  if (t === "string" || t === "boolean" || t === "number") return t as Kind;
  if (x instanceof JsonFloat) return "number";
  return Array.isArray(x) ? "array" : "object"; // anything else was refused before
}

function num(x: unknown): number {
  return x instanceof JsonFloat ? x.value : (x as number);
}

function countOf(x: Obj): number {
  if (x instanceof Map) return x.size;
  let n = 0;
  for (const key in x) if (Object.hasOwn(x, key)) n += 1;
  return n;
}

function has(x: Obj, key: string): boolean {
  return x instanceof Map ? x.has(key) : Object.hasOwn(x, key);
}

function scalarKey(x: unknown): string {
  if (typeof x === "string") return `s${x}`;
  if (typeof x === "number" || x instanceof JsonFloat) return `n${String(num(x) + 0)}`;
  return `b${String(x)}`; // null, true, false
}

const DEEP = 200; // nesting past which a key is built without recursion
const MEMO_MIN = 8; // containers larger than this are keyed once per check
const INLINE_MAX = 32; // a child's key this short is written into its parent's as is

/** JSON equality as keys: `1` equals `1.0`, `true` is not `1`, objects whatever their order.
 * A container's key lists its children's numbers (each distinct value numbered once, each
 * container keyed once per check), so a key costs the container's own size. */
export class Keys {
  private readonly ids = new Map<string, number>();
  private readonly containers = new Map<object, string>();
  private readonly sets = new Map<readonly J[], Set<string>>();

  key(x: unknown, depth = 0): string {
    if (x === null || typeof x !== "object" || x instanceof JsonFloat) return scalarKey(x);
    const known = this.containers.get(x);
    if (known !== undefined) return known;
    if (depth > DEEP) return this.deep(x as unknown[] | Obj);
    let text: string;
    let size: number;
    if (Array.isArray(x)) {
      size = x.length;
      text = "a";
      for (let i = 0; i < size; i++) text += (i > 0 ? "," : "") + this.part(this.key(x[i], depth + 1));
    } else if (x instanceof Map) {
      const entries = [...(x as Map<string, unknown>)].sort((p, q) => compareUnits(p[0], q[0]));
      size = entries.length;
      text = "o";
      entries.forEach(([k, v], i) => (text += `${i > 0 ? "," : ""}${JSON.stringify(k)}:${this.part(this.key(v, depth + 1))}`));
    } else {
      const o = x as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length > 1) keys.sort(compareUnits);
      size = keys.length;
      text = "o";
      for (let i = 0; i < size; i++) {
        const k = keys[i] as string;
        text += `${i > 0 ? "," : ""}${JSON.stringify(k)}:${this.part(this.key(o[k], depth + 1))}`;
      }
    }
    if (size > MEMO_MIN) this.containers.set(x, text); // a large one may be asked again (allOf, nesting)
    return text;
  }

  /** A child's key inside its parent's: a short one as is (quoted), a long one by number. */
  private part(key: string): string {
    return key.length <= INLINE_MAX ? JSON.stringify(key) : `#${this.id(key)}`;
  }

  private id(key: string): number {
    let found = this.ids.get(key);
    if (found === undefined) {
      found = this.ids.size;
      this.ids.set(key, found);
    }
    return found;
  }

  /** The same key, with a stack of its own: values nested thousands deep. */
  private deep(root: unknown[] | Obj): string {
    interface Frame {
      value: object;
      array: boolean;
      items: Array<[string | null, unknown]>;
      parts: string[];
      i: number;
    }
    const frame = (v: unknown[] | Obj): Frame => {
      if (Array.isArray(v)) return { value: v, array: true, items: v.map((item) => [null, item]), parts: [], i: 0 };
      const items = entriesOf(v) as Array<[string, unknown]>;
      items.sort((p, q) => compareUnits(p[0], q[0]));
      return { value: v, array: false, items, parts: [], i: 0 };
    };
    const label = (k: string | null, key: string): string => (k === null ? this.part(key) : `${JSON.stringify(k)}:${this.part(key)}`);
    const stack = [frame(root)];
    for (;;) {
      const top = stack[stack.length - 1] as Frame;
      if (top.i < top.items.length) {
        const [k, child] = top.items[top.i] as [string | null, unknown];
        top.i += 1;
        const known = child !== null && typeof child === "object" ? this.containers.get(child) : undefined;
        if (known === undefined && (Array.isArray(child) || isObject(child))) stack.push(frame(child));
        else top.parts.push(label(k, known ?? scalarKey(child)));
        continue;
      }
      const text = (top.array ? "a" : "o") + top.parts.join(",");
      this.containers.set(top.value, text);
      stack.pop();
      const parent = stack[stack.length - 1];
      if (parent === undefined) return text;
      const k = (parent.items[parent.i - 1] as [string | null, unknown])[0];
      parent.parts.push(label(k, text));
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

const ROOT_AT: At = [];

/** `check` returns true to stop: with `firstOnly`, at the first failure. */
export class Listing {
  readonly out: Found[] = [];
  private probe: Listing | null;

  constructor(
    readonly keys: Keys,
    readonly firstOnly = false,
  ) {
    this.probe = firstOnly ? this : null;
  }

  private add(at: At, message: string): boolean {
    if (this.firstOnly) return true;
    this.out.push([at, message]);
    return false;
  }

  private sub(at: At, segment: Segment): At {
    return this.firstOnly ? at : [...at, segment];
  }

  valid(node: SchemaNode, x: unknown): boolean {
    this.probe ??= new Listing(this.keys, true);
    return !this.probe.check(node, x, ROOT_AT);
  }

  check(node: SchemaNode, x: unknown, at: At): boolean {
    if (node.verdict !== null) return node.verdict ? false : this.add(at, "is not allowed");
    const kind = kindOf(x);
    const types = node.types;
    if (types !== null) {
      let ok = false;
      for (const name of types) {
        if (name === kind || (name === "integer" && kind === "number" && Number.isInteger(num(x)))) {
          ok = true;
          break;
        }
      }
      if (!ok) return this.add(at, node.typeMessage);
    }
    if (node.ref !== null && this.check(node.ref, x, at)) return true;
    if (node.options !== null && !this.keys.set(node.options).has(this.keys.key(x)) && this.add(at, node.enumMessage)) {
      return true;
    }
    if (node.hasConst && this.keys.key(x) !== this.keys.key(node.constant) && this.add(at, node.constMessage)) return true;
    if (kind === "number") {
      if (this.numeric(node, num(x), at)) return true;
    } else if (kind === "string") {
      if (this.text(node, x as string, at)) return true;
    } else if (kind === "array") {
      if (this.array(node, x as unknown[], at)) return true;
    } else if (kind === "object" && this.object(node, x as Obj, at)) {
      return true;
    }
    for (const s of node.allOf) if (this.check(s, x, at)) return true;
    if (node.anyOf !== null && !node.anyOf.some((s) => this.valid(s, x))) {
      if (this.add(at, "must match at least one schema in anyOf")) return true;
    }
    if (node.oneOf !== null) {
      let matched = 0;
      for (const s of node.oneOf) if (this.valid(s, x) && ++matched > 1) break; // two: not one
      if (matched !== 1 && this.add(at, "must match exactly one schema in oneOf")) return true;
    }
    if (node.not !== null && this.valid(node.not, x) && this.add(at, "must not match the schema in not")) return true;
    return false;
  }

  private numeric(node: SchemaNode, x: number, at: At): boolean {
    for (const b of node.bounds) {
      const fails = b.kind === 0 ? x < b.value : b.kind === 1 ? x > b.value : b.kind === 2 ? x <= b.value : x >= b.value;
      if (fails && this.add(at, b.message)) return true;
    }
    const m = node.multipleOf;
    if (m !== null && !(Number.isInteger(x) && x % m === 0)) {
      if (this.add(at, `must be a multiple of ${plainNumber(m)}`)) return true;
    }
    return false;
  }

  private text(node: SchemaNode, x: string, at: At): boolean {
    const { minLength: min, maxLength: max } = node;
    if (min !== null || max !== null) {
      const length = codePoints(x);
      if (min !== null && length < min && this.add(at, `must be at least ${plural(min, "character", "characters")}`)) {
        return true;
      }
      if (max !== null && length > max && this.add(at, `must be at most ${plural(max, "character", "characters")}`)) {
        return true;
      }
    }
    if (node.pattern !== null && !node.pattern.test(x) && this.add(at, `must match the pattern ${node.pattern.source}`)) {
      return true;
    }
    return false;
  }

  private array(node: SchemaNode, x: unknown[], at: At): boolean {
    const { minItems: min, maxItems: max } = node;
    if (min !== null && x.length < min && this.add(at, `must have at least ${plural(min, "item", "items")}`)) return true;
    if (max !== null && x.length > max && this.add(at, `must have at most ${plural(max, "item", "items")}`)) return true;
    if (node.unique) {
      const seen = new Set<string>();
      for (const v of x) seen.add(this.keys.key(v));
      if (seen.size !== x.length && this.add(at, "must not have duplicate items")) return true;
    }
    const { prefix, items } = node;
    for (let i = 0; i < x.length; i++) {
      const sub = i < prefix.length ? prefix[i] : items;
      if (sub != null && this.check(sub, x[i], this.sub(at, i))) return true;
    }
    return false;
  }

  private object(node: SchemaNode, x: Obj, at: At): boolean {
    const { minProperties: min, maxProperties: max } = node;
    if (min !== null || max !== null) {
      const n = countOf(x);
      if (min !== null && n < min && this.add(at, `must have at least ${plural(min, "property", "properties")}`)) return true;
      if (max !== null && n > max && this.add(at, `must have at most ${plural(max, "property", "properties")}`)) return true;
    }
    for (const name of node.required) {
      if (!has(x, name) && this.add(this.sub(at, name), "is required")) return true;
    }
    const { properties, additional } = node;
    if (properties === null && additional === null) return false;
    const visit = (key: string, item: unknown): boolean => {
      const sub = properties?.get(key) ?? additional;
      return sub !== null && this.check(sub, item, this.sub(at, key));
    };
    if (x instanceof Map) {
      for (const [key, item] of x) if (visit(key as string, item)) return true;
    } else {
      for (const key in x) if (Object.hasOwn(x, key) && visit(key, x[key])) return true;
    }
    return false;
  }
}
