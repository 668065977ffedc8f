/**
 * The bounds this client applies as the server does: the same names and values as
 * `promptdeck/limits.py` (`test/contracts.test.ts` checks them against it).
 */

// Contracts (docs/contracts.md): what a contract may hold.
export const CONTRACT_MAX_BYTES = 100_000; // the whole contract, canonical JSON
export const CONTRACT_TOOLS_MAX = 128;
export const TOOL_NAME_PATTERN = "^[a-zA-Z0-9_-]{1,64}$";
export const SCHEMA_DEPTH_MAX = 32; // subschemas inside subschemas, $ref followed
export const SCHEMA_WEIGHT_MAX = 5_000; // subschemas with every $ref inlined, plus enum values
export const SCHEMA_ENUM_MAX = 1_000;
export const PATTERN_MAX = 1_000; // characters of one pattern
export const PATTERN_STATES_MAX = 1_000; // a pattern's atoms with counted repetitions expanded
// Checking variables: their size is values + characters // 16, the work the schema's weight
// times that size. Past the first two the variables are refused unchecked; past the third
// the failing paths are not listed one by one.
export const VARIABLES_SIZE_MAX = 1_000_000;
export const CONTRACT_CHECK_WORK_MAX = 30_000_000;
export const CONTRACT_LIST_WORK_MAX = 100_000;
export const VARIABLES_ERRORS_LISTED_MAX = 100;

// What a stored JSON value may be (a contract is stored).
export const JSON_DEPTH_MAX = 32;
export const JSON_INT_MAX = 2 ** 53 - 1;
export const JSON_FLOAT_ABS_LIMIT = 1e15;

// Rollouts (docs/rollouts.md, "Assignment").
export const ROLLOUT_BUCKETS = 10_000;
export const ROLLOUT_KEY_MAX_BYTES = 512;
export const ROLLOUT_SALT_MAX = 64;
