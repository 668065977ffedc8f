/**
 * A checked variables schema made ready for checking many values: each subschema becomes a
 * `SchemaNode` with its keywords as plain fields (read without a lookup), its `$ref` followed
 * to the node it names (references never loop: `checkSchema` refused those), its patterns
 * compiled, and its messages written once, in the words of docs/contracts.md.
 */

import { type J, type JMap, isMap } from "./json.js";
import { Matcher } from "./matcher.js";
import { isScalar, plainNumber, scalar } from "./paths.js";
import { resolve } from "./schema.js";

const ENUM_LISTED_MAX = 10; // an enum of at most this many scalars is spelled out in its message

export interface Bound {
  readonly kind: 0 | 1 | 2 | 3; // minimum, maximum, exclusiveMinimum, exclusiveMaximum
  readonly value: number;
  readonly message: string;
}

export interface SchemaNode {
  /** `true` or `false` as a whole schema; null for an object schema. */
  readonly verdict: boolean | null;
  readonly types: readonly string[] | null;
  readonly typeMessage: string;
  readonly ref: SchemaNode | null;
  readonly options: readonly J[] | null; // enum
  readonly enumMessage: string;
  readonly hasConst: boolean;
  readonly constant: J;
  readonly constMessage: string;
  readonly bounds: readonly Bound[];
  readonly multipleOf: number | null;
  readonly minLength: number | null;
  readonly maxLength: number | null;
  readonly pattern: Matcher | null;
  readonly minItems: number | null;
  readonly maxItems: number | null;
  readonly unique: boolean;
  readonly prefix: readonly SchemaNode[];
  readonly items: SchemaNode | null;
  readonly minProperties: number | null;
  readonly maxProperties: number | null;
  readonly required: readonly string[];
  readonly properties: ReadonlyMap<string, SchemaNode> | null;
  readonly additional: SchemaNode | null;
  readonly allOf: readonly SchemaNode[];
  readonly anyOf: readonly SchemaNode[] | null;
  readonly oneOf: readonly SchemaNode[] | null;
  readonly not: SchemaNode | null;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function or(names: readonly string[]): string {
  return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

const count = (v: J | undefined): number | null => (typeof v === "number" ? v : null);
const list = (v: J | undefined): J[] => (Array.isArray(v) ? v : []);
const BOUNDS = [
  ["minimum", ">="],
  ["maximum", "<="],
  ["exclusiveMinimum", ">"],
  ["exclusiveMaximum", "<"],
] as const;

/** The nodes of a checked schema, from its root. */
export function buildNodes(root: J): SchemaNode {
  const made = new Map<J, SchemaNode>(); // by subschema (shared by the $refs that name it)
  const matchers = new Map<string, Matcher>();
  const build = (schema: J | undefined): SchemaNode => {
    const s: J = schema ?? true;
    const known = made.get(s);
    if (known !== undefined) return known;
    const node = isMap(s) ? objectNode(s) : leaf(s === true);
    if (typeof s === "object" && s !== null) made.set(s, node);
    return node;
  };
  const objectNode = (s: JMap): SchemaNode => {
    const rawTypes = s.get("type");
    const types = rawTypes === undefined ? null : (Array.isArray(rawTypes) ? rawTypes : [rawTypes]).map(String);
    const ref = s.get("$ref");
    const options = Array.isArray(s.get("enum")) ? (s.get("enum") as J[]) : null;
    const spelled = options !== null && options.length <= ENUM_LISTED_MAX && options.every(isScalar);
    const constant = s.get("const") ?? null;
    const bounds: Bound[] = [];
    BOUNDS.forEach(([key, words], kind) => {
      const value = s.get(key);
      if (typeof value === "number") bounds.push({ kind: kind as Bound["kind"], value, message: `must be ${words} ${plainNumber(value)}` });
    });
    const source = s.get("pattern");
    let pattern: Matcher | null = null;
    if (typeof source === "string") {
      pattern = matchers.get(source) ?? new Matcher(source);
      matchers.set(source, pattern);
    }
    const props = s.get("properties");
    return {
      verdict: null,
      types,
      typeMessage: types === null ? "" : `expected ${or(types)}`,
      ref: typeof ref === "string" ? build(resolve(root, ref)) : null,
      options,
      enumMessage: spelled ? `must be one of ${(options as J[]).map(scalar).join(", ")}` : "must be one of the allowed values",
      hasConst: s.has("const"),
      constant,
      constMessage: isScalar(constant) ? `must be ${scalar(constant)}` : "must be the constant value",
      bounds,
      multipleOf: count(s.get("multipleOf")),
      minLength: count(s.get("minLength")),
      maxLength: count(s.get("maxLength")),
      pattern,
      minItems: count(s.get("minItems")),
      maxItems: count(s.get("maxItems")),
      unique: s.get("uniqueItems") === true,
      prefix: list(s.get("prefixItems")).map(build),
      items: s.has("items") ? build(s.get("items")) : null,
      minProperties: count(s.get("minProperties")),
      maxProperties: count(s.get("maxProperties")),
      required: list(s.get("required")).filter((v): v is string => typeof v === "string"),
      properties: isMap(props) ? new Map([...props].map(([k, v]) => [k, build(v)])) : null,
      additional: s.has("additionalProperties") ? build(s.get("additionalProperties")) : null,
      allOf: list(s.get("allOf")).map(build),
      anyOf: s.has("anyOf") ? list(s.get("anyOf")).map(build) : null,
      oneOf: s.has("oneOf") ? list(s.get("oneOf")).map(build) : null,
      not: s.has("not") ? build(s.get("not")) : null,
    };
  };
  return build(root);
}

function leaf(verdict: boolean): SchemaNode {
  return {
    verdict,
    types: null,
    typeMessage: "",
    ref: null,
    options: null,
    enumMessage: "",
    hasConst: false,
    constant: null,
    constMessage: "",
    bounds: [],
    multipleOf: null,
    minLength: null,
    maxLength: null,
    pattern: null,
    minItems: null,
    maxItems: null,
    unique: false,
    prefix: [],
    items: null,
    minProperties: null,
    maxProperties: null,
    required: [],
    properties: null,
    additional: null,
    allOf: [],
    anyOf: null,
    oneOf: null,
    not: null,
  };
}
