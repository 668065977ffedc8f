/**
 * Matching a parsed pattern (`pattern.ts`) in time linear in the text: the pattern becomes a
 * Thompson NFA (a program of CHAR, SPLIT, JMP, BOL, EOL and MATCH instructions), run as a DFA
 * whose states (sets of NFA instructions) are built lazily, as the text needs them, and kept
 * in a bounded cache (dropped whole when full, as RE2 does). Each character of the text then
 * costs one table lookup, or at worst one pass over the program: never backtracking.
 *
 * A match is a search, as JSON Schema's `pattern` is: the NFA is restarted at every position
 * (and `^`, `$` match only at the ends of the text). Only whether there is a match is asked.
 */

import type { Node, Ranges } from "./pattern.js";
import { parsePattern } from "./pattern.js";

const CHAR = 0;
const SPLIT = 1;
const JMP = 2;
const BOL = 3;
const EOL = 4;
const MATCH = 5;

const STATES_CACHED_MAX = 4096; // DFA states kept; past it the cache starts again

class Program {
  readonly op: number[] = [];
  readonly x: number[] = [];
  readonly y: number[] = [];
  readonly sets: Array<Ranges | null> = [];

  emit(op: number, x = 0, y = 0, set: Ranges | null = null): number {
    this.op.push(op);
    this.x.push(x);
    this.y.push(y);
    this.sets.push(set);
    return this.op.length - 1;
  }

  get next(): number {
    return this.op.length;
  }

  compile(node: Node): void {
    switch (node.t) {
      case "set":
        this.emit(CHAR, 0, 0, node.ranges);
        return;
      case "bol":
        this.emit(BOL);
        return;
      case "eol":
        this.emit(EOL);
        return;
      case "cat":
        for (const item of node.items) this.compile(item);
        return;
      case "alt": {
        const jumps: number[] = [];
        node.items.forEach((item, i) => {
          if (i < node.items.length - 1) {
            const split = this.emit(SPLIT);
            this.x[split] = this.next;
            this.compile(item);
            jumps.push(this.emit(JMP));
            this.y[split] = this.next;
          } else {
            this.compile(item);
          }
        });
        for (const j of jumps) this.x[j] = this.next;
        return;
      }
      case "rep": {
        for (let i = 0; i < node.min; i++) this.compile(node.node);
        if (node.max === null) {
          const split = this.emit(SPLIT);
          this.x[split] = this.next;
          this.compile(node.node);
          this.emit(JMP, split);
          this.y[split] = this.next;
          return;
        }
        // Each optional copy may be the last one: x{1,3} is x, then x? twice, all to `end`.
        const splits: number[] = [];
        for (let i = node.min; i < node.max; i++) {
          const split = this.emit(SPLIT);
          this.x[split] = this.next;
          splits.push(split);
          this.compile(node.node);
        }
        for (const s of splits) this.y[s] = this.next;
        return;
      }
    }
  }
}

function contains(ranges: Ranges, c: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < (ranges[2 * mid] as number)) hi = mid - 1;
    else if (c > (ranges[2 * mid + 1] as number)) lo = mid + 1;
    else return true;
  }
  return false;
}

interface DState {
  /** CHAR instructions waiting for a character, and EOL ones waiting for the end. */
  readonly pcs: Int32Array;
  readonly match: boolean;
  readonly next: Array<DState | undefined>; // by character class
  endMatch: boolean | null;
}

/** A compiled pattern: `test(text)` says whether it matches anywhere in `text`. */
export class Matcher {
  private readonly prog = new Program();
  /** Code points where some CHAR's set starts or stops: between two, all sets agree. */
  private readonly bounds: Int32Array;
  private readonly ascii = new Int32Array(128);
  private cache = new Map<string, DState>();
  private start: DState | null = null;
  private anchored: boolean | null = null;
  private readonly mark: Int32Array;
  private generation = 0;
  private readonly stack: number[] = [];

  constructor(readonly source: string) {
    this.prog.compile(parsePattern(source).node);
    this.prog.emit(MATCH);
    const cuts = new Set<number>();
    for (const set of this.prog.sets) {
      if (set === null) continue;
      for (let i = 0; i < set.length; i += 2) {
        cuts.add(set[i] as number);
        cuts.add((set[i + 1] as number) + 1);
      }
    }
    this.bounds = Int32Array.from([...cuts].sort((a, b) => a - b));
    for (let c = 0; c < 128; c++) this.ascii[c] = this.classSlow(c);
    this.mark = new Int32Array(this.prog.op.length);
  }

  /** The equivalence class of code point `c`: how many bounds are at or below it. */
  private classSlow(c: number): number {
    let lo = 0;
    let hi = this.bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.bounds[mid] as number) <= c) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The states reachable from `seeds` without reading a character. */
  private closure(seeds: readonly number[], atStart: boolean, atEnd: boolean): DState {
    const { op, x, y } = this.prog;
    this.generation += 1;
    const gen = this.generation;
    const stack = this.stack;
    const kept: number[] = [];
    let match = false;
    for (let k = seeds.length - 1; k >= 0; k--) stack.push(seeds[k] as number);
    while (stack.length > 0) {
      const pc = stack.pop() as number;
      if (this.mark[pc] === gen) continue;
      this.mark[pc] = gen;
      switch (op[pc]) {
        case CHAR:
          kept.push(pc);
          break;
        case SPLIT:
          stack.push(y[pc] as number, x[pc] as number);
          break;
        case JMP:
          stack.push(x[pc] as number);
          break;
        case BOL:
          if (atStart) stack.push(pc + 1);
          break;
        case EOL:
          if (atEnd) stack.push(pc + 1);
          else kept.push(pc);
          break;
        case MATCH:
          match = true;
          break;
      }
    }
    const pcs = Int32Array.from(kept).sort();
    if (atEnd) return { pcs, match, next: [], endMatch: match };
    const key = pcs.join(",") + (match ? "!" : "");
    const found = this.cache.get(key);
    if (found !== undefined) return found;
    if (this.cache.size >= STATES_CACHED_MAX) {
      // Start again: unlink every state, so the dropped ones can be collected.
      for (const old of this.cache.values()) old.next.length = 0;
      this.cache = new Map();
    }
    const made: DState = { pcs, match, next: [], endMatch: null };
    this.cache.set(key, made);
    return made;
  }

  private step(state: DState, cls: number): DState {
    const { op, sets } = this.prog;
    const rep = cls === 0 ? 0 : (this.bounds[cls - 1] as number); // a code point of the class
    const seeds: number[] = [];
    for (const pc of state.pcs) {
      if (op[pc] === CHAR && contains(sets[pc] as Ranges, rep)) seeds.push(pc + 1);
    }
    seeds.push(0); // a search: a match may start at the next position too
    const next = this.closure(seeds, false, false);
    state.next[cls] = next;
    return next;
  }

  private ended(state: DState, empty: boolean): boolean {
    if (state.endMatch === null) {
      const eols = [...state.pcs].filter((pc) => this.prog.op[pc] === EOL);
      state.endMatch = eols.length > 0 && this.closure(eols, empty, true).match;
    }
    return state.endMatch;
  }

  test(text: string): boolean {
    if (text.length === 0) return this.closure([0], true, true).match;
    this.start ??= this.closure([0], true, false);
    // Anchored at the start (every branch begins with ^): a search restarted later finds
    // nothing, so a state with no thread left can never match.
    this.anchored ??= this.closure([0], false, false).pcs.length === 0;
    let state = this.start;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      if (state.match) return true;
      if (state.pcs.length === 0 && this.anchored) return false;
      let c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i += 1;
        }
      }
      const cls = c < 128 ? (this.ascii[c] as number) : this.classSlow(c);
      state = state.next[cls] ?? this.step(state, cls);
    }
    return state.match || this.ended(state, false);
  }
}
