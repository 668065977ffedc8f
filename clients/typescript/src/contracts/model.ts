/**
 * A version's contract: the variables schema, the tools, the answer's format; checked whole
 * as `promptdeck/domain/contracts/model.py` checks it before a version is stored (the same
 * refusals and paths: `contract.tools[2].function.name`). The server checks every contract it
 * stores; a client checks one to refuse it before sending it (an editor), and the render
 * conformance fixtures check that both refuse the same ones.
 */

import { ContractInvalid } from "../errors.js";
import { CONTRACT_MAX_BYTES, CONTRACT_TOOLS_MAX, TOOL_NAME_PATTERN } from "../limits.js";
import { isMap, isObject, jsonSize, NotJsonValue, readJson, type J, type JMap } from "./json.js";
import { pyRepr, renderPath, type Segment } from "./paths.js";
import { checkSchema } from "./schema.js";

export const CONTRACT_KEYS = ["variables", "variables_inferred", "tools", "response_format"] as const;
export const RESPONSE_TYPES = ["text", "json_object", "json_schema"] as const;
// Python's re.match with "$", which also matches before a final "\n" (so "name\n" passes
// the server's check: kept here, to refuse exactly what it refuses).
const TOOL_NAME = new RegExp(`${TOOL_NAME_PATTERN.slice(0, -1)}\\n?$`);

/** A contract as checked: `variables` (a JSON Schema object, null when not given, or given
 * back as inferred), `tools`, `responseFormat`, in the `J` form the checks read. */
export interface Contract {
  readonly variables: JMap | null;
  readonly variablesInferred: boolean;
  readonly tools: readonly J[];
  readonly responseFormat: JMap | null;
}

function fail(segments: readonly Segment[], detail: string): ContractInvalid {
  const path = renderPath("contract", segments);
  return new ContractInvalid(`${path}: ${detail}`, { field: path });
}

function objectSchema(schema: J | undefined, at: readonly Segment[], what: string): void {
  if (!isMap(schema) || schema.get("type") !== "object") {
    throw fail([...at, "type"], `${what} is an object: its schema says "type": "object"`);
  }
}

function keys(value: J | undefined, at: readonly Segment[], allowed: readonly string[], what: string): JMap {
  if (!isMap(value)) throw fail(at, `${what} is an object`);
  for (const key of value.keys()) {
    if (!allowed.includes(key)) throw fail([...at, key], `unknown key ${pyRepr(key)} (allowed: ${allowed.join(", ")})`);
  }
  return value;
}

function toolName(name: J | undefined): name is string {
  return typeof name === "string" && TOOL_NAME.test(name);
}

function checkTools(tools: J): J[] {
  if (!Array.isArray(tools)) throw fail(["tools"], "tools is a list of tool definitions");
  if (tools.length > CONTRACT_TOOLS_MAX) throw fail(["tools"], `at most ${CONTRACT_TOOLS_MAX} tools`);
  const seen = new Map<string, number>();
  tools.forEach((raw, i) => {
    const at: Segment[] = ["tools", i];
    const tool = keys(raw, at, ["type", "function"], "a tool");
    if (tool.get("type") !== "function") throw fail([...at, "type"], 'type must be "function"');
    const where = [...at, "function"];
    const fn = keys(tool.get("function"), where, ["name", "description", "parameters", "strict"], "function");
    const name = fn.get("name");
    if (!toolName(name)) throw fail([...where, "name"], `a name matches ${TOOL_NAME_PATTERN}`);
    const before = seen.get(name);
    if (before !== undefined) throw fail([...where, "name"], `${pyRepr(name)} is also tools[${before}]`);
    seen.set(name, i);
    if (fn.has("description") && typeof fn.get("description") !== "string") {
      throw fail([...where, "description"], "description must be a string");
    }
    if (fn.has("strict") && typeof fn.get("strict") !== "boolean") {
      throw fail([...where, "strict"], "strict must be true or false");
    }
    if (fn.has("parameters")) {
      const parameters = fn.get("parameters") ?? null;
      objectSchema(parameters, [...where, "parameters"], "parameters");
      checkSchema(parameters, [...where, "parameters"]);
    }
  });
  return tools;
}

function checkResponseFormat(raw: J): JMap {
  const at = ["response_format"];
  const value = keys(raw, at, ["type", "json_schema"], "response_format");
  const kind = value.get("type");
  if (typeof kind !== "string" || !(RESPONSE_TYPES as readonly string[]).includes(kind)) {
    throw fail([...at, "type"], `type is one of ${RESPONSE_TYPES.join(", ")}`);
  }
  if (kind !== "json_schema") {
    if (value.has("json_schema")) throw fail([...at, "json_schema"], `only with "type": "json_schema", not ${pyRepr(kind)}`);
    return value;
  }
  const where = [...at, "json_schema"];
  const spec = keys(value.get("json_schema"), where, ["name", "description", "schema", "strict"], "json_schema");
  if (!toolName(spec.get("name"))) throw fail([...where, "name"], `a name matches ${TOOL_NAME_PATTERN}`);
  if (spec.has("description") && typeof spec.get("description") !== "string") {
    throw fail([...where, "description"], "description must be a string");
  }
  if (spec.has("strict") && typeof spec.get("strict") !== "boolean") {
    throw fail([...where, "strict"], "strict must be true or false");
  }
  if (!spec.has("schema")) throw fail([...where, "schema"], "a json_schema response format needs its schema");
  checkSchema(spec.get("schema") ?? null, [...where, "schema"]);
  return value;
}

/**
 * The contract `raw` (as a request gives it, or as a read of a version returns it), checked
 * whole: ContractInvalid naming the path, as the server refuses it. `variables_inferred: true`
 * (as a read gives it back) drops `variables`: they are inferred from the template.
 */
export function checkContract(raw: unknown): Contract {
  if (!isObject(raw)) throw fail([], "contract is an object");
  for (const key of raw instanceof Map ? raw.keys() : Object.keys(raw)) {
    if (!(CONTRACT_KEYS as readonly unknown[]).includes(key)) {
      throw fail([String(key)], `unknown key ${pyRepr(String(key))} (allowed: ${CONTRACT_KEYS.join(", ")})`);
    }
  }
  let contract: JMap;
  try {
    contract = readJson(raw, true) as JMap;
  } catch (exc) {
    if (!(exc instanceof NotJsonValue)) throw exc;
    throw fail([], exc.message);
  }
  if (jsonSize(raw) > CONTRACT_MAX_BYTES) throw fail([], `a contract is at most ${CONTRACT_MAX_BYTES} bytes as JSON`);
  const inferred = contract.get("variables_inferred") ?? false;
  if (typeof inferred !== "boolean") throw fail(["variables_inferred"], "variables_inferred must be true or false");
  const given = inferred ? null : (contract.get("variables") ?? null);
  if (given !== null) {
    objectSchema(given, ["variables"], "the variables");
    checkSchema(given, ["variables"]);
  }
  const tools = contract.get("tools") ?? null;
  const format = contract.get("response_format") ?? null;
  return {
    variables: isMap(given) ? given : null,
    variablesInferred: false,
    tools: tools === null ? [] : checkTools(tools),
    responseFormat: format === null ? null : checkResponseFormat(format),
  };
}
