/**
 * promptdeck for JavaScript and TypeScript: `import { Client } from "promptdeck"`.
 *
 * The same client as the Python package's: the active version from an in-process cache (TTL,
 * 304 revalidation, the last good copy when the server is down, a fallback, one request per
 * key, moves pushed on GET /changes), local rendering, outcomes reported in batches, the
 * registry's operations, and the same error classes. docs/typescript.md has the guide.
 */

export { Client, PinnedCache, type ClientOptions, type GetActiveOptions, type Logger } from "./client.js";
export { armOf, basisPoints, bucket, checkKey, checkSalt, randomBucket, Split, type Arm } from "./assign.js";
export { ActiveCache, CacheStats, SingleFlight, type Clock } from "./cache.js";
export { Changes, ChangesState, LineSplitter, SseParser, type SseEvent } from "./changes.js";
export {
  checkContract,
  checkPattern,
  contractVariableCheck,
  NOT_JSON,
  Pattern,
  PatternError,
  type Contract,
} from "./contracts/index.js";
export * from "./errors.js";
export * as limits from "./limits.js";
export * as otel from "./otel.js";
export { DEFAULT_URL, VERSION, type Call, type Fetch, type FetchInit, type FetchResponse } from "./http.js";
export { Operations } from "./operations.js";
export {
  versionRef,
  type CreatePromptOptions,
  type CreateVersionOptions,
  type PageOptions,
  type PromptRef,
  type RollbackResult,
  type UpdatePromptOptions,
  type VersionRef,
} from "./options.js";
export { OutcomeQueue, OutcomeStats, type Measures } from "./outcomes.js";
export { parseRolloutHeader, ROLLOUT_HEADER, rolloutOfMove, splitOfAnswer, splitOfObject } from "./rollout-wire.js";
export { sha256, SHA256_IMPLEMENTATION, sha256Node, sha256Pure } from "./sha256.js";
export { JsonFloat, pyJson } from "./pyjson.js";
export {
  checkVariables,
  hasVariableCheck,
  IncludeRef,
  includes,
  render,
  renderedValue,
  setVariableCheck,
  variables,
  type Kind,
  type Message,
  type Rendered,
  type RenderOptions,
  type Resolver,
  type TemplateFormat,
  type VariableCheck,
  type Variables,
} from "./templates.js";
export { ActivePrompt, Version, type AnthropicArgs, type Source } from "./versions.js";
export type * from "./wire.js";
