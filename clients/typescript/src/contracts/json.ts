/**
 * JSON as the contract code reads it. A contract (a schema) is read once into `J`, whose
 * objects are `Map`s in the order written (a plain object in JavaScript's order, a `Map` as
 * given), its numbers plain (a `JsonFloat` unwrapped: `1.0` and `1` are one JSON Schema
 * number). Values to check are read where they are, through `isObject` and `entriesOf`: a
 * plain object or a `Map` is an object, a `JsonFloat` a number.
 */

import { floatRepr, JsonFloat, numberText, quote } from "../pyjson.js";
import { JSON_DEPTH_MAX, JSON_FLOAT_ABS_LIMIT, JSON_INT_MAX } from "../limits.js";

export type J = null | boolean | number | string | J[] | JMap;
export type JMap = Map<string, J>;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A JSON object, as an application passes one: a plain object or a Map. */
export function isObject(value: unknown): value is Record<string, unknown> | Map<unknown, unknown> {
  return value instanceof Map || isPlainObject(value);
}

export function entriesOf(value: Record<string, unknown> | Map<unknown, unknown>): Array<[unknown, unknown]> {
  if (value instanceof Map) return [...value];
  // Object.keys and lookups: Object.entries takes several times as long on a large object.
  const keys = Object.keys(value);
  const out = new Array<[unknown, unknown]>(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = [keys[i], value[keys[i] as string]];
  return out;
}

/** Not JSON a contract may hold: the message says why (as `domain/values.py`'s ValueError). */
export class NotJsonValue extends Error {}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "object";
  return typeof value;
}

/** `check_text`: valid Unicode scalar values, no NUL. */
export function checkText(text: string): void {
  if (text.includes("\0")) throw new NotJsonValue("text cannot contain NUL (U+0000)");
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = text.charCodeAt(i + 1);
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        i += 1;
        continue;
      }
      const hex = c.toString(16).toUpperCase().padStart(4, "0");
      throw new NotJsonValue(`text contains U+${hex}, a lone surrogate (not Unicode)`);
    }
  }
}

function checkNumber(value: number, float: boolean): void {
  if (!float && Number.isInteger(value)) {
    if (Math.abs(value) > JSON_INT_MAX) {
      throw new NotJsonValue(`integers must be within ±${JSON_INT_MAX} (2**53 - 1)`);
    }
    return;
  }
  if (!Number.isFinite(value)) throw new NotJsonValue("numbers must be finite (no NaN or Infinity)");
  if (Math.abs(value) >= JSON_FLOAT_ABS_LIMIT) {
    throw new NotJsonValue(
      "non-integer numbers must be below 1e+15 in size (larger ones would not come back as written)",
    );
  }
  if (Object.is(value, -0)) throw new NotJsonValue("-0.0 cannot be stored exactly (it would come back as 0.0)");
}

/**
 * `value` read into `J`. `strict`: as `domain/values.check_json` checks what is stored (text
 * Unicode without NUL, integers within ±(2**53 - 1), floats finite and below 1e15, nested at
 * most 32 deep); otherwise only what is not JSON at all is refused.
 */
export function readJson(value: unknown, strict: boolean, depth = 1): J {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "string") {
    if (strict) checkText(value);
    return value;
  }
  if (typeof value === "number" || value instanceof JsonFloat) {
    const float = value instanceof JsonFloat;
    const n = float ? value.value : value;
    if (strict) checkNumber(n, float);
    else if (!Number.isFinite(n)) throw new NotJsonValue("numbers must be finite (no NaN or Infinity)");
    return n === 0 ? 0 : n; // -0.0: 0 (the integral float as an integer)
  }
  const array = Array.isArray(value);
  if (!array && !isObject(value)) throw new NotJsonValue(`${describe(value)} is not a JSON value`);
  if (depth > JSON_DEPTH_MAX) throw new NotJsonValue(`JSON is nested more than ${JSON_DEPTH_MAX} levels deep`);
  if (array) {
    const out: J[] = [];
    for (let i = 0; i < value.length; i++) out.push(readJson(value[i], strict, depth + 1));
    return out;
  }
  const out: JMap = new Map();
  for (const [key, item] of entriesOf(value)) {
    if (typeof key !== "string") throw new NotJsonValue("JSON object keys must be strings");
    if (strict) checkText(key);
    out.set(key, readJson(item, strict, depth + 1));
  }
  return out;
}

/** UTF-8 bytes of `json.dumps(value, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False)` (key order does not change the size); `value` as `readJson` took it. */
export function jsonSize(value: unknown): number {
  return new TextEncoder().encode(compact(value)).length;
}

function compact(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return quote(value);
  if (typeof value === "number") return numberText(value);
  if (value instanceof JsonFloat) return floatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map(compact).join(",")}]`;
  if (isObject(value)) {
    return `{${entriesOf(value)
      .map(([k, v]) => `${quote(String(k))}:${compact(v)}`)
      .join(",")}}`;
  }
  return "null";
}

/** JSON's type of a schema node, as Python's isinstance sees it. */
export function isMap(value: J | undefined): value is JMap {
  return value instanceof Map;
}

export function isCount(value: J | undefined): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
