/**
 * JSON spelled as Python's `json.dumps(value, ensure_ascii=False)` spells it, which is how the
 * server (and the Python client) insert a non-string variable into a template: `", "` and
 * `": "` separators, non-ASCII text as is, `\uXXXX` (lower-case hex) for other control
 * characters, floats as Python's `repr` (`1e-05`, `1e+16`, `0.1`), `NaN` and `Infinity`.
 *
 * JavaScript has one number type: a number with an integer value is written as an integer
 * (`1`, where Python writes the float `1.0` as `1.0`); wrap it in `JsonFloat` to get the
 * float spelling. Object keys come out in JavaScript's own order (integer-like keys first);
 * a `Map` keeps its insertion order, as a Python dict does.
 */

/** A number written as Python writes a float: `new JsonFloat(1)` is `1.0`. */
export class JsonFloat {
  constructor(readonly value: number) {}
}

/** Not a JSON value (undefined, a function, a Date, a class instance…). */
export class NotJson extends Error {}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\x00-\x1f\\"]/g;

/** A string as Python's `json.dumps(text, ensure_ascii=False)` writes it (a lone surrogate as
 * is, where `JSON.stringify` escapes it). */
export function quote(text: string): string {
  const body = text.replace(
    NEEDS_ESCAPE,
    (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `"${body}"`;
}

/** Python's `repr(float)`: the shortest digits that read back, fixed between 1e-4 and 1e16. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa = "", exp = "0"] = x.toExponential().split("e");
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const e = Number(exp); // scientific exponent: x = d.ddd × 10^e
  const sign = negative ? "-" : "";
  if (e < -4 || e >= 16) {
    const rest = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const power = Math.abs(e).toString().padStart(2, "0");
    return `${sign}${digits[0]}${rest}e${e < 0 ? "-" : "+"}${power}`;
  }
  if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, "0");
  const fraction = digits.slice(e + 1);
  return `${sign}${whole}.${fraction || "0"}`;
}

export function numberText(x: number): string {
  if (!Number.isFinite(x)) return floatRepr(x);
  if (Number.isInteger(x)) {
    // An integer: Python's int spelling (exact digits past 2^53, no exponent, no "-0").
    return Number.isSafeInteger(x) ? String(x === 0 ? 0 : x) : BigInt(x).toString();
  }
  return floatRepr(x);
}

function keyText(key: unknown): string {
  if (typeof key === "string") return quote(key);
  if (typeof key === "number") return quote(numberText(key));
  if (key instanceof JsonFloat) return quote(floatRepr(key.value));
  if (typeof key === "boolean") return quote(key ? "true" : "false");
  if (key === null) return quote("null");
  throw new NotJson("keys must be str, int, float, bool or None");
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `json.dumps(value, ensure_ascii=False)`; throws `NotJson` for what JSON cannot hold. */
export function pyJson(value: unknown, depth = 0): string {
  if (depth > 1000) throw new NotJson("nested too deep");
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return quote(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return numberText(value);
    case "object":
      break;
    default:
      throw new NotJson(`${typeof value} is not JSON serializable`);
  }
  if (value instanceof JsonFloat) return floatRepr(value.value);
  if (Array.isArray(value)) {
    return `[${value.map((item) => pyJson(item, depth + 1)).join(", ")}]`;
  }
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [k, v] of value as Map<unknown, unknown>) {
      parts.push(`${keyText(k)}: ${pyJson(v, depth + 1)}`);
    }
    return `{${parts.join(", ")}}`;
  }
  if (isPlainObject(value)) {
    const parts = Object.entries(value).map(([k, v]) => `${quote(k)}: ${pyJson(v, depth + 1)}`);
    return `{${parts.join(", ")}}`;
  }
  throw new NotJson(`${value.constructor?.name ?? "object"} is not JSON serializable`);
}

/** Whether `value` is a JSON value `pyJson` takes at the top (a template variable). */
export function isJsonLike(value: unknown): boolean {
  if (value === null) return true;
  const t = typeof value;
  if (t === "number" || t === "boolean" || t === "string") return true;
  if (t !== "object") return false;
  const o = value as object;
  return Array.isArray(o) || o instanceof Map || o instanceof JsonFloat || isPlainObject(o);
}

/** Python's `len(text)`: code points, not UTF-16 units. */
export function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Python's order of `sorted(strings)`: by code point (not by UTF-16 unit). */
export function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]?.codePointAt(0) ?? 0;
    const q = y[i]?.codePointAt(0) ?? 0;
    if (p !== q) return p - q;
  }
  return x.length - y.length;
}
