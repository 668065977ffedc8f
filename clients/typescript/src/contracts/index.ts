/**
 * Contracts (docs/contracts.md): what a version promises its callers. The render checks its
 * variables against the contract's variables schema (`contractVariableCheck`, installed by
 * default: see `setVariableCheck` in templates.ts), with the server's and the Python
 * client's outcome for every case of the shared render conformance fixtures.
 */

import { ContractInvalid } from "../errors.js";
import { isObject } from "./json.js";
import { checkCompiled, compile, type Compiled } from "./check.js";

export { checkContract, type Contract } from "./model.js";
export { Matcher as Pattern } from "./matcher.js";
export { checkPattern, PatternError } from "./pattern.js";
export { NOT_JSON } from "./check.js";

// Compiled schemas by the schema object (a cached copy's contract is one object, however many
// renders check it); a schema the checks refuse is remembered as its error.
const compiledSchemas = new WeakMap<object, Compiled | ContractInvalid>();

function field(contract: object, key: string): unknown {
  if (contract instanceof Map) return (contract as Map<unknown, unknown>).get(key);
  return Object.hasOwn(contract, key) ? (contract as Record<string, unknown>)[key] : undefined;
}

/**
 * The contract's variable checks: `values` against the contract's `variables` schema (given,
 * not inferred: an inferred one is descriptive and checks nothing). Throws VariablesInvalid
 * listing every failing path (`errors`), VariablesTooLarge past the work bound, or
 * ContractInvalid for a schema outside the vocabulary.
 */
export function contractVariableCheck(contract: unknown, values: Readonly<Record<string, unknown>>): void {
  if (!isObject(contract)) return;
  const variables = field(contract, "variables");
  if (variables === null || variables === undefined || field(contract, "variables_inferred") === true) return;
  let compiled = typeof variables === "object" ? compiledSchemas.get(variables) : undefined;
  if (compiled === undefined) {
    try {
      compiled = compile(variables);
    } catch (exc) {
      if (!(exc instanceof ContractInvalid)) throw exc;
      compiled = exc;
    }
    if (typeof variables === "object") compiledSchemas.set(variables, compiled);
  }
  if (compiled instanceof ContractInvalid) throw compiled;
  checkCompiled(compiled, values as Record<string, unknown>);
}
