/**
 * A contract's `pattern`: the subset of ECMAScript regular expressions of
 * `promptdeck/domain/contracts/pattern.py` (docs/contracts.md, "Patterns"), with the `u`
 * flag's meaning (code points), parsed here as there (the same refusals, the same messages),
 * and matched in time linear in the text: JavaScript's own `RegExp` backtracks (`^(a+)+$`
 * on 30 characters takes minutes), so the parsed pattern is compiled to a Thompson NFA and
 * run as a lazily built DFA (`matcher.ts`).
 *
 *     alt   := seq ("|" seq)*
 *     seq   := ("^" | "$" | atom quantifier?)*
 *     quantifier := ("*" | "+" | "?" | "{n}" | "{n,}" | "{n,m}") "?"?      n, m <= 1000
 *     atom  := "." | "(" alt ")" | "(?:" alt ")" | class | escape | literal
 */

import { PATTERN_MAX, PATTERN_STATES_MAX } from "../limits.js";

const SYNTAX = new Set("^$\\.*+?()[]{}|/");
const CLASS_ESCAPES = new Set("dDwWsS");
const CONTROL: Readonly<Record<string, number>> = { t: 9, n: 10, r: 13, f: 12, v: 11 };
const HEX = /^[0-9a-fA-F]+$/;
export const REPEAT_MAX = 1000;
export const GROUP_DEPTH_MAX = 16;
const TOP = 0x10ffff;

export class PatternError extends Error {}

/** Code point ranges, sorted, disjoint, inclusive: `[lo0, hi0, lo1, hi1, …]`. */
export type Ranges = readonly number[];

export type Node =
  | { readonly t: "set"; readonly ranges: Ranges }
  | { readonly t: "cat"; readonly items: readonly Node[] }
  | { readonly t: "alt"; readonly items: readonly Node[] }
  | { readonly t: "rep"; readonly node: Node; readonly min: number; readonly max: number | null }
  | { readonly t: "bol" }
  | { readonly t: "eol" };

function normalize(pairs: Array<[number, number]>): number[] {
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= (out[n - 1] as number) + 1) out[n - 1] = Math.max(out[n - 1] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

export function complement(ranges: Ranges): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const lo = ranges[i] as number;
    if (lo > next) out.push(next, lo - 1);
    next = (ranges[i + 1] as number) + 1;
  }
  if (next <= TOP) out.push(next, TOP);
  return out;
}

function pairsOf(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const part of text.split(",")) {
    const [lo, hi = lo] = part.split("-").map((h) => Number.parseInt(h, 16));
    out.push([lo as number, hi as number]);
  }
  return out;
}

const DIGIT = normalize(pairsOf("30-39"));
const WORD = normalize(pairsOf("30-39,41-5a,5f,61-7a"));
// ECMAScript's WhiteSpace and LineTerminator (no-break space and U+FEFF included).
const SPACE = normalize(pairsOf("9-d,20,a0,1680,2000-200a,2028,2029,202f,205f,3000,feff"));
// "." is any code point but the line terminators \n, \r, U+2028 and U+2029.
export const DOT = complement(normalize(pairsOf("a,d,2028,2029")));
const CLASS_SETS: Readonly<Record<string, Ranges>> = {
  d: DIGIT,
  D: complement(DIGIT),
  w: WORD,
  W: complement(WORD),
  s: SPACE,
  S: complement(SPACE),
};

class Parser {
  readonly cps: number[];
  i = 0;
  depth = 0;

  constructor(readonly text: string) {
    this.cps = Array.from(text, (c) => c.codePointAt(0) ?? 0);
  }

  fail(what: string): PatternError {
    return new PatternError(`${what} at character ${this.i + 1}`);
  }

  peek(): string | null {
    const c = this.cps[this.i];
    return c === undefined ? null : String.fromCodePoint(c);
  }

  quantifierNext(): boolean {
    const c = this.peek();
    return c !== null && "*+?{".includes(c);
  }

  take(): string {
    const c = String.fromCodePoint(this.cps[this.i] ?? 0);
    this.i += 1;
    return c;
  }

  /** [node, states]: states are the alternatives' sum. */
  alt(): [Node, number] {
    const [first, states] = this.seq();
    const items = [first];
    let total = states;
    while (this.peek() === "|") {
      this.i += 1;
      const [node, n] = this.seq();
      items.push(node);
      total += n;
    }
    return [items.length === 1 ? first : { t: "alt", items }, total];
  }

  seq(): [Node, number] {
    const items: Node[] = [];
    let total = 0;
    for (let c = this.peek(); c !== null && c !== "|" && c !== ")"; c = this.peek()) {
      if (c === "^" || c === "$") {
        this.i += 1;
        if (this.quantifierNext()) throw this.fail("an anchor cannot be repeated");
        items.push({ t: c === "^" ? "bol" : "eol" });
        continue;
      }
      const [node, states] = this.atom();
      const [quantified, n] = this.quantified(node, states);
      items.push(quantified);
      total += n;
    }
    return [items.length === 1 ? (items[0] as Node) : { t: "cat", items }, total];
  }

  quantified(node: Node, states: number): [Node, number] {
    const c = this.peek();
    if (c === null || !"*+?{".includes(c)) return [node, states];
    this.i += 1;
    let min = 0;
    let max: number | null = null;
    let copies = 1;
    if (c === "{") {
      [min, max] = this.counts();
      copies = max === null ? Math.max(min, 1) : Math.max(max, 1);
    } else if (c === "+") min = 1;
    else if (c === "?") max = 1;
    if (this.peek() === "?") this.i += 1; // lazy: the same language, so the same match or not
    if (this.quantifierNext()) throw this.fail("a quantifier cannot follow a quantifier");
    return [{ t: "rep", node, min, max }, states * copies];
  }

  counts(): [number, number | null] {
    const low = this.integer();
    let high: number | null = low;
    if (this.peek() === ",") {
      this.i += 1;
      high = this.peek() === "}" ? null : this.integer();
    }
    if (this.peek() !== "}") throw this.fail("a counted repetition is {n}, {n,} or {n,m}");
    this.i += 1;
    if (high !== null && high < low) throw this.fail("in {n,m}, n must not be larger than m");
    return [low, high];
  }

  integer(): number {
    const start = this.i;
    for (let c = this.peek(); c !== null && c >= "0" && c <= "9"; c = this.peek()) this.i += 1;
    if (start === this.i) throw this.fail("a counted repetition needs a number");
    const value = Number(String.fromCodePoint(...this.cps.slice(start, this.i)));
    if (value > REPEAT_MAX) throw this.fail(`counted repetitions go up to ${REPEAT_MAX}`);
    return value;
  }

  atom(): [Node, number] {
    const c = this.take();
    if (c === ".") return [{ t: "set", ranges: DOT }, 1];
    if (c === "(") {
      if (this.peek() === "?") {
        if (this.slice(this.i, this.i + 2) !== "?:") throw this.fail("only (…) and (?:…) groups are supported");
        this.i += 2;
      }
      this.depth += 1;
      if (this.depth > GROUP_DEPTH_MAX) throw this.fail(`groups nest at most ${GROUP_DEPTH_MAX} deep`);
      const [node, states] = this.alt();
      this.depth -= 1;
      if (this.peek() !== ")") throw this.fail("unclosed group");
      this.i += 1;
      return [node, states];
    }
    if (c === "[") return [{ t: "set", ranges: this.charClass() }, 1];
    if (c === "\\") {
      const found = this.escape(false);
      return [{ t: "set", ranges: typeof found === "number" ? [found, found] : found }, 1];
    }
    if (SYNTAX.has(c)) throw new PatternError(`'${c}' must be escaped at character ${this.i}`);
    const cp = this.literal(c);
    return [{ t: "set", ranges: [cp, cp] }, 1];
  }

  slice(from: number, to: number): string {
    return String.fromCodePoint(...this.cps.slice(from, to));
  }

  literal(c: string): number {
    const cp = c.codePointAt(0) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) throw this.fail("surrogate code points are not supported");
    return cp;
  }

  /** One escape: the code point it stands for, or a class escape's ranges. */
  escape(inClass: boolean): number | Ranges {
    if (this.peek() === null) throw this.fail("a pattern cannot end with a backslash");
    const c = this.take();
    if (CLASS_ESCAPES.has(c)) return CLASS_SETS[c] as Ranges;
    const control = CONTROL[c];
    if (control !== undefined) return control;
    if (c === "x") return this.hexDigits(2);
    if (c === "u") {
      if (this.peek() === "{") {
        this.i += 1;
        const end = this.cps.indexOf(0x7d, this.i); // "}"
        const digits = end > 0 ? this.slice(this.i, end) : "";
        if (!digits || digits.length > 6 || !HEX.test(digits)) throw this.fail("\\u{…} needs 1 to 6 hex digits");
        this.i = end + 1;
        return this.codePoint(Number.parseInt(digits, 16));
      }
      return this.hexDigits(4);
    }
    if (SYNTAX.has(c) || (inClass && c === "-")) return c.codePointAt(0) ?? 0;
    throw this.fail(`\\${c} is not supported`);
  }

  hexDigits(n: number): number {
    const digits = this.slice(this.i, this.i + n);
    if (digits.length !== n || !HEX.test(digits)) throw this.fail(`expected ${n} hex digits`);
    this.i += n;
    return this.codePoint(Number.parseInt(digits, 16));
  }

  codePoint(value: number): number {
    if (value > TOP || (value >= 0xd800 && value <= 0xdfff)) throw this.fail("not a Unicode scalar value");
    return value;
  }

  charClass(): Ranges {
    let negated = false;
    if (this.peek() === "^") {
      this.i += 1;
      negated = true;
    }
    if (this.peek() === "]") throw this.fail("an empty class matches nothing");
    const pairs: Array<[number, number]> = [];
    for (;;) {
      const low = this.classAtom();
      if (low === false) break;
      const after = this.slice(this.i + 1, this.i + 2);
      if (this.peek() === "-" && after !== "]" && after !== "") {
        this.i += 1;
        const high = this.classAtom();
        if (typeof low !== "number" || typeof high !== "number") {
          throw this.fail("a range in a class goes from one character to another");
        }
        if (high < low) throw this.fail("a range in a class must go upward");
        pairs.push([low, high]);
      } else if (typeof low === "number") {
        pairs.push([low, low]);
      } else {
        for (let k = 0; k < low.length; k += 2) pairs.push([low[k] as number, low[k + 1] as number]);
      }
    }
    const ranges = normalize(pairs);
    return negated ? complement(ranges) : ranges;
  }

  /** A code point, a class escape's ranges, or false at the closing "]". */
  classAtom(): number | Ranges | false {
    const c = this.peek();
    if (c === null) throw this.fail("unclosed character class");
    this.i += 1;
    if (c === "]") return false;
    if (c === "\\") return this.escape(true);
    if (c === "[") throw this.fail("'[' must be escaped inside a class");
    return this.literal(c);
  }
}

/** The parsed pattern, or PatternError saying what is not in the subset (and where). */
export function parsePattern(text: string): { node: Node; states: number } {
  const parser = new Parser(text);
  if (parser.cps.length > PATTERN_MAX) throw new PatternError(`a pattern is at most ${PATTERN_MAX} characters`);
  const [node, states] = parser.alt();
  if (parser.i !== parser.cps.length) throw parser.fail("unbalanced ')'");
  if (states > PATTERN_STATES_MAX) {
    throw new PatternError(
      `the pattern expands to ${states} atoms (repetitions counted); at most ${PATTERN_STATES_MAX}`,
    );
  }
  return { node, states };
}

/** Throws PatternError unless `text` is in the supported subset and within the bounds. */
export function checkPattern(text: string): void {
  parsePattern(text);
}
