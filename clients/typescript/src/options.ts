/** The options of the operations (`operations.ts`), and how a version is named. */

import type { Message, TemplateFormat } from "./templates.js";
import type { Version } from "./versions.js";
import type { ModelConfig, Prompt } from "./wire.js";

export type PromptRef = string | number;
/** A version by id (a number) or by version name (a string; all digits: an id first). */
export type VersionRef = number | string;

export interface PageOptions {
  limit?: number;
  cursor?: string;
}

export interface CreatePromptOptions {
  description?: string;
  tags?: string[];
  modelConfig?: ModelConfig;
  versionName?: string;
  versionDescription?: string;
  maxVersions?: number;
  idempotencyKey?: string;
  /** The first version is a chat one with these messages. */
  messages?: Message[];
  templateFormat?: TemplateFormat;
}

export interface CreateVersionOptions {
  /** The template; omitted: the prompt's working copy. */
  content?: string;
  modelConfig?: ModelConfig;
  versionName?: string;
  description?: string;
  /** Also make it the active version. */
  activate?: boolean;
  idempotencyKey?: string;
  /** A chat version's messages. */
  messages?: Message[];
  templateFormat?: TemplateFormat;
  /** Return the latest version instead when nothing changed. */
  ifChanged?: boolean;
}

export interface UpdatePromptOptions {
  description?: string;
  tags?: string[];
  content?: string;
  modelConfig?: ModelConfig;
  /** null removes the limit. */
  maxVersions?: number | null;
  ifMatch?: string;
}

export interface RollbackResult {
  changed: boolean;
  prompt: Prompt;
  version: Version;
}

/** (id to try, name to try): a number is an id; all digits an id first, then a name. */
export function versionRef(ref: VersionRef): [number | null, string | null] {
  if (typeof ref === "number") return [ref, null];
  if (/^[0-9]{1,9}$/.test(ref)) return [Number(ref), ref];
  return [null, ref];
}
