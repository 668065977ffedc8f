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
import { entriesOf, isObject, NotJsonValue, readJson, type J } from "./json.js";
import { Keys, Listing, type At, type Found, type Obj } from "./listing.js";
import { buildNodes, type SchemaNode } from "./nodes.js";
import { compareSegments, compareUnits, renderPath } from "./paths.js";
import { checkSchema } from "./schema.js";

export const ROOT = "variables";
export const NOT_JSON = "is not a JSON value every client reads exactly";
const FIND_NODES_MAX = 200_000; // values looked at to find a non-JSON one (a rare, bounded walk)

/** A variables schema read once: its weight, and its nodes ready to check values. */
export class Compiled {
  readonly root: SchemaNode;

  constructor(
    readonly schema: J,
    readonly weight: number,
  ) {
    this.root = buildNodes(schema);
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
    } else if (x instanceof Map) {
      let keyChars = 0;
      let strings = true;
      for (const [k, v] of x as Map<unknown, unknown>) {
        stack.push(v);
        if (typeof k === "string") keyChars += codePoints(k);
        else strings = false;
      }
      if (strings) chars += keyChars;
      else plain = false;
    } else if (isObject(x)) {
      const o = x as Record<string, unknown>;
      const keys = Object.keys(o);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        stack.push(o[k]);
        chars += codePoints(k);
      }
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
  if (!new Listing(keys, true).check(schema.root, vars, [])) return;
  if (schema.weight * n > CONTRACT_LIST_WORK_MAX) {
    throw refuse([{ path: ROOT, message: "too large to list each failing path" }]);
  }
  const listing = new Listing(keys);
  listing.check(schema.root, vars, []);
  const found = lines(listing.out);
  throw refuse(found.length > 0 ? found : [{ path: ROOT, message: "do not match the contract" }]);
}
