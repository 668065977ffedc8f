/**
 * JSON read as Python's `json.loads` reads it, for the render fixtures: a number written with
 * a fraction or an exponent is a float (`1.0` stays a float: `JsonFloat`, where JSON.parse
 * gives the integer 1), an object whose keys JavaScript would reorder (integer-like keys) is a
 * `Map` in the written order, and NaN / Infinity are read as Python reads them.
 */

import { JsonFloat } from "promptdeck";

export function parsePython(text: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i] ?? "")) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${i}`);
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const entries: Array<[string, unknown]> = [];
      ws();
      if (text[i] === "}") {
        i++;
        return {};
      }
      for (;;) {
        ws();
        const key = value();
        if (typeof key !== "string") fail("a key");
        ws();
        if (text[i++] !== ":") fail("':'");
        entries.push([key as string, value()]);
        ws();
        const sep = text[i++];
        if (sep === "}") break;
        if (sep !== ",") fail("',' or '}'");
      }
      const reordered = entries.some(([k]) => /^(0|[1-9][0-9]*)$/.test(k));
      if (reordered) return new Map(entries);
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries) out[k] = v;
      return out;
    }
    if (c === "[") {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        const sep = text[i++];
        if (sep === "]") break;
        if (sep !== ",") fail("',' or ']'");
      }
      return out;
    }
    if (c === '"') {
      const start = i;
      i++;
      while (text[i] !== '"') {
        if (text[i] === "\\") i++;
        i++;
        if (i >= text.length) fail("a closing quote");
      }
      i++;
      return JSON.parse(text.slice(start, i)) as string;
    }
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
      ["NaN", NaN],
      ["Infinity", Infinity],
      ["-Infinity", -Infinity],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (m === null) return fail("a value");
    i += m[0].length;
    const n = Number(m[0]);
    const float = m[2] !== undefined || m[3] !== undefined;
    return float && (Number.isInteger(n) || Object.is(n, -0)) ? new JsonFloat(n) : n;
  };
  const out = value();
  ws();
  if (i !== text.length) fail("the end");
  return out;
}
