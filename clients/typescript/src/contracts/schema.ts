/**
 * A contract's JSON Schemas: the supported vocabulary of draft 2020-12, checked as
 * `promptdeck/domain/contracts/schema.py` checks it (the same refusals, paths and messages),
 * and each schema's weight, which bounds the work of checking a value against it
 * (docs/contracts.md, "Schemas"). The server also runs jsonschema-rs's meta-schema check;
 * within this vocabulary it finds nothing more, and it is not repeated here.
 */

import { ContractInvalid } from "../errors.js";
import { SCHEMA_DEPTH_MAX, SCHEMA_ENUM_MAX, SCHEMA_WEIGHT_MAX } from "../limits.js";
import { isCount, isMap, type J, type JMap } from "./json.js";
import { pyRepr, renderPath, type Segment } from "./paths.js";
import { checkPattern, PatternError } from "./pattern.js";

export const DIALECT = "https://json-schema.org/draft/2020-12/schema";
export const TYPES = ["null", "boolean", "object", "array", "number", "integer", "string"] as const;
const ANNOTATIONS: ReadonlyMap<string, (v: J) => boolean> = new Map<string, (v: J) => boolean>([
  ["title", (v) => typeof v === "string"],
  ["description", (v) => typeof v === "string"],
  ["default", () => true],
  ["examples", (v) => Array.isArray(v)],
  ["deprecated", (v) => typeof v === "boolean"],
  ["readOnly", (v) => typeof v === "boolean"],
  ["writeOnly", (v) => typeof v === "boolean"],
  ["format", (v) => typeof v === "string"],
  ["$comment", (v) => typeof v === "string"],
]);
const NUMBERS = new Set(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]);
const COUNTS = new Set(["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"]);
export const SCHEMA_MAPS = new Set(["properties", "$defs"]);
export const SCHEMA_ONE = new Set(["additionalProperties", "items", "not"]);
export const SCHEMA_LISTS = new Set(["prefixItems", "allOf", "anyOf", "oneOf"]);
const KEYWORDS = new Set([
  "type", "enum", "const", "multipleOf", "pattern", "uniqueItems", "required", "$ref",
  ...NUMBERS, ...COUNTS, ...SCHEMA_MAPS, ...SCHEMA_ONE, ...SCHEMA_LISTS,
]); // prettier-ignore
const UNSUPPORTED = new Set([
  "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$recursiveRef",
  "$recursiveAnchor", "if", "then", "else", "contains", "minContains", "maxContains",
  "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas",
  "dependencies", "unevaluatedItems", "unevaluatedProperties", "contentEncoding",
  "contentMediaType", "contentSchema", "definitions", "additionalItems",
]); // prettier-ignore

// What a keyword costs, in visits of a plain subschema (schema.py has why).
const CONST_WEIGHT = 16;
const UNIQUE_WEIGHT = 32;
const PATTERN_WEIGHT = 8;

type Pointer = readonly Segment[];
const keyOf = (at: Pointer): string => JSON.stringify(at);

function fail(base: Pointer, at: Pointer, detail: string): ContractInvalid {
  const path = renderPath("contract", [...base, ...at]);
  return new ContractInvalid(`${path}: ${detail}`, { field: path });
}

class Walk {
  readonly children = new Map<string, Pointer[]>();
  readonly refs = new Map<string, [Pointer, Pointer]>(); // holder: (holder, target)
  readonly own = new Map<string, number>(); // 1, plus the enum's values…

  constructor(
    readonly root: J,
    readonly base: Pointer,
  ) {}

  fail(at: Pointer, detail: string): ContractInvalid {
    return fail(this.base, at, detail);
  }

  schema(node: J, at: Pointer): void {
    const key = keyOf(at);
    if (typeof node === "boolean") {
      this.children.set(key, []);
      this.own.set(key, 1);
      return;
    }
    if (!isMap(node)) throw this.fail(at, "a schema is an object or a boolean");
    const kids: Pointer[] = [];
    this.children.set(key, kids);
    this.own.set(key, 1);
    for (const [name, value] of node) {
      const where = [...at, name];
      const annotation = ANNOTATIONS.get(name);
      if (annotation !== undefined) {
        if (!annotation(value)) throw this.fail(where, `${name} has the wrong type`);
      } else if (name === "$schema" || name === "$id") {
        if (at.length > 0) throw this.fail(where, `${name} is allowed at the root of a schema only`);
        if (name === "$schema" && value !== DIALECT) {
          throw this.fail(where, `$schema must be ${DIALECT} (draft 2020-12)`);
        }
        if (typeof value !== "string") throw this.fail(where, `${name} must be a string`);
      } else if (KEYWORDS.has(name)) {
        this.keyword(name, value, at, kids);
      } else if (UNSUPPORTED.has(name)) {
        throw this.fail(where, `${name} is not supported in promptdeck contracts`);
      } else {
        throw this.fail(where, `unknown keyword ${pyRepr(name)}`);
      }
    }
  }

  private add(at: Pointer, weight: number): void {
    const key = keyOf(at);
    this.own.set(key, (this.own.get(key) ?? 0) + weight);
  }

  private keyword(name: string, value: J, at: Pointer, kids: Pointer[]): void {
    const where = [...at, name];
    if (name === "type") {
      const names = Array.isArray(value) ? value : [value];
      const known = (n: J): boolean => typeof n === "string" && (TYPES as readonly string[]).includes(n);
      if (names.length === 0 || !names.every(known) || new Set(names).size !== names.length) {
        throw this.fail(where, `type is one of ${TYPES.join(", ")}, or a list of them`);
      }
    } else if (name === "enum") {
      if (!Array.isArray(value) || value.length === 0) throw this.fail(where, "enum is a non-empty list of values");
      if (value.length > SCHEMA_ENUM_MAX) throw this.fail(where, `enum has at most ${SCHEMA_ENUM_MAX} values`);
      let weight = CONST_WEIGHT;
      for (const v of value) weight += isMap(v) || Array.isArray(v) ? CONST_WEIGHT : 1;
      this.add(at, weight);
    } else if (NUMBERS.has(name)) {
      if (typeof value !== "number") throw this.fail(where, `${name} must be a number`);
    } else if (name === "multipleOf") {
      if (!isCount(value) || value === 0) throw this.fail(where, "multipleOf must be a positive integer");
    } else if (COUNTS.has(name)) {
      if (!isCount(value)) throw this.fail(where, `${name} must be a non-negative integer`);
    } else if (name === "pattern") {
      if (typeof value !== "string") throw this.fail(where, "pattern must be a string");
      try {
        checkPattern(value);
      } catch (exc) {
        if (!(exc instanceof PatternError)) throw exc;
        throw this.fail(where, `pattern not supported: ${exc.message}`);
      }
      this.add(at, PATTERN_WEIGHT);
    } else if (name === "uniqueItems") {
      if (typeof value !== "boolean") throw this.fail(where, "uniqueItems must be true or false");
      if (value) this.add(at, UNIQUE_WEIGHT);
    } else if (name === "required") {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        throw this.fail(where, "required is a list of property names");
      }
      if (new Set(value).size !== value.length) throw this.fail(where, "required names a property twice");
    } else if (name === "$ref") {
      this.refs.set(keyOf(at), [at, this.pointer(value, where)]);
    } else if (SCHEMA_MAPS.has(name)) {
      if (!isMap(value)) throw this.fail(where, `${name} is an object of schemas`);
      for (const [key, sub] of value) {
        this.schema(sub, [...where, key]);
        if (name !== "$defs") kids.push([...where, key]); // definitions count where they are used
      }
    } else if (SCHEMA_ONE.has(name)) {
      this.schema(value, where);
      kids.push(where);
    } else if (SCHEMA_LISTS.has(name)) {
      if (!Array.isArray(value) || value.length === 0) throw this.fail(where, `${name} is a non-empty list of schemas`);
      value.forEach((sub, i) => {
        this.schema(sub, [...where, i]);
        kids.push([...where, i]);
      });
    } else if (name === "const") {
      this.add(at, CONST_WEIGHT);
    }
  }

  private pointer(ref: J, where: Pointer): Pointer {
    if (typeof ref !== "string" || !(ref === "#" || ref.startsWith("#/"))) {
      throw this.fail(where, "$ref must be local: '#' or '#/' and a JSON pointer into this schema");
    }
    if (ref.includes("%")) throw this.fail(where, "$ref cannot use percent-encoding");
    const tokens = ref === "#" ? [] : ref.slice(2).split("/");
    let node: J | undefined = this.root;
    const out: Segment[] = [];
    for (const raw of tokens) {
      const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
      if (isMap(node) && node.has(token)) {
        node = node.get(token);
        out.push(token);
      } else if (Array.isArray(node) && /^[0-9]+$/.test(token)) {
        const index = Number(token);
        if (String(index) !== token || index >= node.length) throw this.fail(where, `$ref ${ref} points at nothing`);
        node = node[index];
        out.push(index);
      } else {
        throw this.fail(where, `$ref ${ref} points at nothing`);
      }
    }
    return out;
  }
}

/**
 * The schema's weight (1 for each subschema with every `$ref` inlined, 16 for each `enum`
 * and `const`, 1 for each scalar and 16 for each object or array among an enum's values, 32
 * for each `uniqueItems: true`, 8 for each `pattern`), or ContractInvalid naming the path
 * (under `base`) unless it is in the vocabulary, its references are local, lead to schemas
 * and never loop, and it is within the bounds.
 */
export function checkSchema(schema: J, base: Pointer): number {
  const walk = new Walk(schema, base);
  walk.schema(schema, []);
  for (const [holder, target] of walk.refs.values()) {
    if (!walk.children.has(keyOf(target))) throw walk.fail([...holder, "$ref"], "$ref must point at a schema");
  }
  const weights = new Map<string, number>();
  const stack: Pointer[] = [];
  const onStack = new Set<string>();
  const weigh = (at: Pointer): number => {
    const key = keyOf(at);
    const known = weights.get(key);
    if (known !== undefined) return known;
    if (onStack.has(key)) throw walk.fail([...(stack[stack.length - 1] ?? []), "$ref"], "recursive $ref is not supported");
    if (stack.length >= SCHEMA_DEPTH_MAX) throw walk.fail(at, `schemas nest more than ${SCHEMA_DEPTH_MAX} deep`);
    stack.push(at);
    onStack.add(key);
    let total = walk.own.get(key) ?? 0;
    for (const kid of walk.children.get(key) ?? []) total += weigh(kid);
    const ref = walk.refs.get(key);
    if (ref !== undefined) total += weigh(ref[1]);
    stack.pop();
    onStack.delete(key);
    if (total > SCHEMA_WEIGHT_MAX) {
      throw walk.fail(
        at,
        `the schema weighs more than ${SCHEMA_WEIGHT_MAX} (subschemas with $ref inlined, enum and const ` +
          "values, uniqueItems and patterns: docs/contracts.md)",
      );
    }
    weights.set(key, total);
    return total;
  };
  return weigh([]);
}

/** The subschema a checked local `$ref` names. */
export function resolve(root: J, ref: string): J {
  let node: J | undefined = root;
  if (ref === "#") return node;
  for (const raw of ref.slice(2).split("/")) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = Array.isArray(node) ? node[Number(token)] : isMap(node) ? node.get(token) : undefined;
  }
  return node ?? false;
}

export function get(schema: JMap, key: string): J | undefined {
  return schema.get(key);
}
