/**
 * Templates: the same render as the server's and the Python client's
 * (`promptdeck/domain/templates.py`), line for line, so that a version renders to the same
 * text or messages wherever it is rendered. Plain templates only: a version with
 * `templateFormat: "jinja"` throws `TemplateInvalid` here (render it on the server:
 * `client.render`, or `client.renderActive`, which does so for Jinja versions).
 *
 * Syntax (docs/api.md#templates): `{{name}}` a variable; `{{> other}}`, `{{> other@3}}`,
 * `{{> other@staging}}` an include; `\{{` a literal `{{`; any other `{{` is kept as written.
 * A value is inserted as is, never rendered again; a non-string value as Python's JSON.
 */

import { contractVariableCheck } from "./contracts/index.js";
import { MissingVariables, RenderTooLarge, TemplateInvalid } from "./errors.js";
import { byCodePoint, codePoints, isJsonLike, NotJson, pyJson } from "./pyjson.js";

export type Kind = "text" | "chat";
export type TemplateFormat = "plain" | "jinja";
export type Variables = Readonly<Record<string, unknown>>;
/** A message as a chat version renders it (OpenAI's `messages=`). */
export interface Message {
  role: string;
  content?: string;
  [key: string]: unknown;
}

export const RENDER_MAX = 2_000_000; // characters of rendered text (all messages together)
export const INCLUDE_DEPTH_MAX = 8; // nested includes followed when rendering
export const INCLUDES_MAX = 64; // include tags expanded in one render
const PLACEHOLDER = "placeholder";

// Python's `\s` in a str pattern (str.isspace), which is not JavaScript's: it has \x1c-\x1f
// and \x85, and not \ufeff.
const WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const TAG_SOURCE =
  `(?<escape>\\\\)?\\{\\{[${WS}]*(?:>[${WS}]*(?<include>[a-z0-9][a-z0-9._-]*)` +
  `(?:@(?<at>[^${WS}{}@]+))?|(?<var>[A-Za-z_][A-Za-z0-9_]*))[${WS}]*\\}\\}`;
const TAG = new RegExp(TAG_SOURCE, "g");

interface TagGroups {
  escape?: string;
  include?: string;
  at?: string;
  var?: string;
}

/** The named groups of a `matchAll` match, or of a `replace` callback's arguments (last). */
function groups(match: RegExpMatchArray | unknown[]): TagGroups {
  if ("groups" in match && match.groups !== undefined) return match.groups as TagGroups;
  const last = match[match.length - 1];
  return (typeof last === "object" && last !== null ? last : {}) as TagGroups;
}

/** `{{> prompt@at}}`: `at` null is the active version; digits a number; else a label or name. */
export class IncludeRef {
  constructor(
    readonly prompt: string,
    readonly at: string | null = null,
  ) {}

  get number(): number | null {
    return this.at !== null && /^[0-9]+$/.test(this.at) ? Number(this.at) : null;
  }

  get label(): string {
    return this.at ?? "active";
  }

  /** `prompt` or `prompt@at`: also the ref's key (a prompt name never holds "@"). */
  toString(): string {
    return this.at === null ? this.prompt : `${this.prompt}@${this.at}`;
  }
}

/** Given an include, the included text (a text version's content, its own includes in it). */
export type Resolver = (ref: IncludeRef) => string;

/**
 * The contract's variable checks (docs/contracts.md): called with the version's contract and
 * the values before anything is rendered; it throws (an `InvalidInput`: `VariablesInvalid`
 * listing every failing path) to refuse them. The default is `contractVariableCheck`, the
 * server's and the Python client's checks; `setVariableCheck` replaces it (null: none).
 */
export type VariableCheck = (contract: unknown, values: Variables) => void;
let variableCheck: VariableCheck | null = contractVariableCheck;

/** Install the contract check every render of a version with a contract runs (null: none;
 * `contractVariableCheck` is the default). */
export function setVariableCheck(check: VariableCheck | null): void {
  variableCheck = check;
}

/** Whether a contract check is installed (the default one is). */
export function hasVariableCheck(): boolean {
  return variableCheck !== null;
}

/** Run the installed contract check (nothing without a contract, or without a check). */
export function checkVariables(contract: unknown, values: Variables): void {
  // Only a given variables schema is checked: an inferred one (as the server reads back a
  // version made without a contract) checks nothing more than the template does.
  const inferred =
    typeof contract === "object" && contract !== null &&
    (contract as { variables_inferred?: unknown }).variables_inferred === true;
  if (contract !== null && contract !== undefined && !inferred && variableCheck !== null) {
    variableCheck(contract, values);
  }
}

/** What a render gives: `text` (text) or `messages` (chat); the variables given but unused. */
export interface Rendered {
  kind: Kind;
  text: string | null;
  messages: Message[] | null;
  unused: string[];
}

/** The shape an LLM SDK takes: the text, or the list of messages. */
export function renderedValue(out: Rendered): string | Message[] {
  return out.messages ?? out.text ?? "";
}

interface TemplateMessage {
  role: string;
  content?: string;
  name?: string;
}

function decodeMessages(content: string): TemplateMessage[] {
  return JSON.parse(content) as TemplateMessage[];
}

function texts(kind: string, content: string): string[] {
  if (kind === "chat") {
    return decodeMessages(content)
      .filter((m) => m.role !== PLACEHOLDER)
      .map((m) => m.content ?? "");
  }
  return [content];
}

/** Variable names in order of first use (placeholders first, for chat). */
export function variables(kind: string, templateFormat: string, content: string): string[] {
  if (templateFormat === "jinja") throw jinjaHere();
  const names = new Set<string>();
  if (kind === "chat") {
    for (const m of decodeMessages(content)) {
      if (m.role === PLACEHOLDER && m.name !== undefined) names.add(m.name);
    }
  }
  for (const text of texts(kind, content)) {
    for (const match of text.matchAll(TAG)) {
      const g = groups(match);
      if (g.var !== undefined && g.escape === undefined) names.add(g.var);
    }
  }
  return [...names];
}

/** Include tags, in order, each once. */
export function includes(kind: string, content: string): IncludeRef[] {
  const found = new Map<string, IncludeRef>();
  for (const text of texts(kind, content)) {
    for (const match of text.matchAll(TAG)) {
      const g = groups(match);
      if (g.include !== undefined && g.escape === undefined) {
        const ref = new IncludeRef(g.include, g.at ?? null);
        if (!found.has(String(ref))) found.set(String(ref), ref);
      }
    }
  }
  return [...found.values()];
}

function jinjaHere(): TemplateInvalid {
  return new TemplateInvalid(
    "this version uses Jinja sections, which only the server renders: " +
      "client.render(prompt, variables) (or client.renderActive)",
  );
}

class Budget {
  size = 0;
  includes = 0;

  spend(text: string): void {
    this.size += codePoints(text); // Python's len: code points, not UTF-16 units
    if (this.size > RENDER_MAX) {
      throw new RenderTooLarge(`the rendered output is over ${RENDER_MAX} characters`);
    }
  }
}

function valueText(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (isJsonLike(value)) {
    try {
      return pyJson(value);
    } catch (exc) {
      if (!(exc instanceof NotJson)) throw exc;
    }
  }
  throw new TemplateInvalid(`variable '${name}': a string, number, boolean or JSON value`);
}

function expand(text: string, resolve: Resolver | null, budget: Budget, path: readonly string[]): string {
  if (resolve === null || !text.includes("{{")) return text;
  return text.replace(TAG, (...args: unknown[]) => {
    const g = groups(args);
    const whole = String(args[0]);
    if (g.include === undefined || g.escape !== undefined) return whole;
    const ref = new IncludeRef(g.include, g.at ?? null);
    if (path.includes(ref.prompt)) {
      throw new TemplateInvalid(`include cycle: ${[...path, ref.prompt].join(" -> ")}`);
    }
    if (path.length > INCLUDE_DEPTH_MAX) {
      throw new TemplateInvalid(`includes nested deeper than ${INCLUDE_DEPTH_MAX}`);
    }
    budget.includes += 1;
    if (budget.includes > INCLUDES_MAX) {
      throw new TemplateInvalid(`more than ${INCLUDES_MAX} includes in one render`);
    }
    const included = resolve(ref);
    budget.spend(included);
    return expand(included, resolve, budget, [...path, ref.prompt]);
  });
}

function fillPlain(text: string, values: Variables, budget: Budget): string {
  budget.spend(text);
  return text.replace(TAG, (...args: unknown[]) => {
    const g = groups(args);
    const whole = String(args[0]);
    if (g.escape !== undefined) return whole.slice(1);
    if (g.include !== undefined) {
      // only when rendered without a resolver (a version whose includes were not fetched)
      throw new TemplateInvalid(`{{> ${g.include}}} needs the server to render`);
    }
    const name = g.var ?? "";
    const out = valueText(name, values[name]);
    budget.spend(out);
    return out;
  });
}

function given(values: Variables, name: string): boolean {
  return Object.hasOwn(values, name) && values[name] !== undefined;
}

export interface RenderOptions {
  resolve?: Resolver | null;
  path?: readonly string[];
}

/** Fill a version's template. Missing variables: `MissingVariables` naming them all. */
export function render(
  kind: string,
  templateFormat: string,
  content: string,
  values: Variables,
  options: RenderOptions = {},
): Rendered {
  const resolve = options.resolve ?? null;
  const path = options.path ?? [];
  const budget = new Budget();
  const names = variables(kind, templateFormat, content);
  let missing = names.filter((n) => !given(values, n));
  // Included texts may use variables too: expand first, then list what is missing.
  let templateMessages: TemplateMessage[] = [];
  let filled: string[];
  if (kind === "chat") {
    templateMessages = decodeMessages(content);
    filled = templateMessages.map((m) =>
      m.role !== PLACEHOLDER ? expand(m.content ?? "", resolve, budget, path) : "",
    );
  } else {
    filled = [expand(content, resolve, budget, path)];
  }
  if (resolve !== null) {
    for (const text of filled) {
      for (const name of variables("text", templateFormat, text)) {
        if (!names.includes(name)) names.push(name);
      }
    }
    missing = names.filter((n) => !given(values, n));
  }
  if (missing.length > 0) {
    throw new MissingVariables(`missing variables: ${missing.join(", ")}`, { field: "variables" });
  }
  const known = new Set(names);
  const unused = Object.keys(values)
    .filter((k) => values[k] !== undefined && !known.has(k))
    .sort(byCodePoint);
  for (const name of unused) unicode(name, "a variable's name");
  if (kind !== "chat") {
    return { kind: "text", text: unicode(fillPlain(filled[0] ?? "", values, budget)), messages: null, unused };
  }
  const messages: Message[] = [];
  templateMessages.forEach((m, i) => {
    if (m.role === PLACEHOLDER) {
      const name = m.name ?? "";
      messages.push(...placeholder(name, values[name], budget));
    } else {
      messages.push({ role: m.role, content: unicode(fillPlain(filled[i] ?? "", values, budget)) });
    }
  });
  return { kind: "chat", text: null, messages, unused };
}

/** What a render gives is sent as UTF-8, which has no lone surrogates (a value may hold one):
 * refused here, naming the first, as the server does. */
function unicode(text: string, what = "the rendered text"): string {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
    if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
      i++; // a pair: one code point
      continue;
    }
    const hex = c.toString(16).toUpperCase();
    throw new TemplateInvalid(`${what} contains U+${hex}, a lone surrogate (not Unicode)`, { field: "variables" });
  }
  return text;
}

function placeholder(name: string, value: unknown, budget: Budget): Message[] {
  if (!Array.isArray(value)) {
    throw new TemplateInvalid(`placeholder '${name}' takes a list of messages`, { field: "variables" });
  }
  const out: Message[] = [];
  for (const m of value as unknown[]) {
    if (
      m === null ||
      typeof m !== "object" ||
      Array.isArray(m) ||
      typeof (m as Record<string, unknown>)["role"] !== "string"
    ) {
      throw new TemplateInvalid(`placeholder '${name}': each message is an object with a "role"`, {
        field: "variables",
      });
    }
    const copy = { ...(m as Message) };
    budget.spend(unicode(lenientJson(copy)));
    out.push(copy);
  }
  return out;
}

/** `json.dumps(m, default=str)`: only its length counts (the output budget). */
function lenientJson(value: Record<string, unknown>): string {
  try {
    return pyJson(value);
  } catch {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)) ?? "";
  }
}
