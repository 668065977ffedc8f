/**
 * Paths, numbers and JSON as the contract's messages write them: one spelling, the same as
 * `promptdeck/domain/contracts/paths.py` byte for byte (docs/contracts.md).
 *
 * - A path is a root name then segments: a key that looks like an identifier as `.key`, any
 *   other key as `["key"]` (JSON-quoted), an array index as `[3]`.
 * - Paths sort segment by segment: indices by number (before keys), keys by UTF-16 code
 *   units (JavaScript's own `<`), a shorter path before the paths it starts.
 * - A number is written in plain decimal: an integral value as an integer (`3`), any other as
 *   its shortest round-trip digits without an exponent (`0.0000001`).
 */

import { JsonFloat, quote } from "../pyjson.js";

export type Segment = string | number;

const SIMPLE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function renderPath(root: string, segments: readonly Segment[]): string {
  let out = root;
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else out += SIMPLE.test(s) ? `.${s}` : `[${quote(s)}]`;
  }
  return out;
}

/** Python's `<` on two code-unit strings (UTF-16 order; JavaScript compares the same way). */
export function compareUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSegments(a: readonly Segment[], b: readonly Segment[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as Segment;
    const y = b[i] as Segment;
    if (typeof x === "number") {
      if (typeof y !== "number") return -1;
      if (x !== y) return x - y;
    } else {
      if (typeof y === "number") return 1;
      const c = compareUnits(x, y);
      if (c !== 0) return c;
    }
  }
  return a.length - b.length;
}

/** A number in plain decimal: `3` for 3.0, `2.5`, `0.0000001`, never an exponent. */
export function plainNumber(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString();
  const text = String(value); // the shortest digits that read back, as Python's repr
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (m === null) return text;
  const [, sign = "", whole = "", fraction = "", exp = "0"] = m;
  const digits = whole + fraction;
  const point = whole.length + Number(exp); // where the decimal point goes in `digits`
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + "0".repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

export function isScalar(value: unknown): boolean {
  const t = typeof value;
  return value === null || t === "boolean" || t === "number" || t === "string" || value instanceof JsonFloat;
}

/** A scalar in a message: JSON for strings, booleans and null, `plainNumber` for numbers. */
export function scalar(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return plainNumber(value);
  if (value instanceof JsonFloat) return plainNumber(value.value);
  return quote(String(value));
}

/** Python's `repr` of a string, as the contract's messages quote a key: `'key'`. */
export function pyRepr(text: string): string {
  const q = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === q) out += `\\${q}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && NOT_PRINTABLE.test(ch)) {
      const hex = c.toString(16);
      out += c < 0x100 ? `\\x${hex.padStart(2, "0")}` : c < 0x10000 ? `\\u${hex.padStart(4, "0")}` : `\\U${hex.padStart(8, "0")}`;
    } else out += ch;
  }
  return out + q;
}

// Python's str.isprintable is false for these categories (and true for " ").
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;
