/**
 * The registry's operations, one method each (reads, writes for scripts, labels, deploys,
 * impact), as the Python client names them in camelCase. `Client` adds the hot path
 * (`getActive`, its cache and push) and outcome reporting on top.
 */

import { VersionNotFound } from "./errors.js";
import type { Call, Params, Transport } from "./http.js";
import * as ops from "./ops.js";
import * as otel from "./otel.js";
import {
  versionRef,
  type CreatePromptOptions,
  type CreateVersionOptions,
  type PageOptions,
  type PromptRef,
  type RollbackResult,
  type UpdatePromptOptions,
  type VersionRef,
} from "./options.js";
import type { Variables } from "./templates.js";
import { Version } from "./versions.js";
import type {
  Alert,
  Deploy,
  Event,
  Impact,
  Include,
  Label,
  LabelMove,
  Moved,
  Page,
  Prompt,
  RawOutcome,
  RawOutcomes,
  RenderResult,
  Storage,
  VersionSummary,
} from "./wire.js";

export class Operations {
  constructor(protected readonly transport: Transport) {}

  /** Send one call (retries, timeouts, errors): for operations this client lacks. */
  send<T>(call: Call<T>): Promise<T> {
    return this.transport.send(call);
  }

  /** Every item of a list, page after page. */
  protected async *items<T>(pageAt: (cursor: string | undefined) => Call<Page<T>>): AsyncGenerator<T> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.send(pageAt(cursor));
      yield* page.items;
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }

  // --- prompts ------------------------------------------------------------------------------

  /** Create a prompt and its first version (active). Retried safely: an Idempotency-Key. */
  createPrompt(name: string, content = "", options: CreatePromptOptions = {}): Promise<Prompt> {
    const body: ops.CreatePromptBody = {
      name,
      content,
      description: options.description ?? "",
      tags: options.tags ?? [],
      model_config: options.modelConfig ?? {},
      version_name: options.versionName ?? null,
      version_description: options.versionDescription ?? "",
      max_versions: options.maxVersions ?? null,
    };
    if (options.messages !== undefined) body.messages = options.messages;
    if (options.templateFormat !== undefined) body.template_format = options.templateFormat;
    return this.send(ops.createPrompt(body, options.idempotencyKey));
  }

  /** One page of prompts (oldest first); `deleted: true` lists only soft-deleted ones. */
  listPrompts(options: PageOptions & { q?: string; tag?: string; deleted?: boolean } = {}): Promise<Page<Prompt>> {
    const { deleted, ...rest } = options;
    return this.send(ops.listPrompts({ ...rest, deleted: deleted ? "true" : null }));
  }

  iterPrompts(options: { q?: string; tag?: string; deleted?: boolean } = {}): AsyncGenerator<Prompt> {
    return this.items((cursor) =>
      ops.listPrompts({ ...options, deleted: options.deleted ? "true" : null, limit: 200, cursor }),
    );
  }

  getPrompt(prompt: PromptRef): Promise<Prompt> {
    return this.send(ops.getPrompt(prompt));
  }

  /** Edit metadata or the working copy; `ifMatch` (the prompt's etag) refuses a stale edit. */
  updatePrompt(prompt: PromptRef, options: UpdatePromptOptions): Promise<Prompt> {
    const changes: Record<string, unknown> = {};
    const wire: Array<[keyof UpdatePromptOptions, string]> = [
      ["description", "description"],
      ["tags", "tags"],
      ["content", "content"],
      ["modelConfig", "model_config"],
      ["maxVersions", "max_versions"],
    ];
    for (const [key, name] of wire) if (options[key] !== undefined) changes[name] = options[key];
    return this.send(ops.updatePrompt(prompt, changes, options.ifMatch));
  }

  /** Soft delete; `restorePrompt` undoes it. */
  async deletePrompt(prompt: PromptRef, options: { ifMatch?: string; force?: boolean } = {}): Promise<void> {
    await this.send(ops.deletePrompt(prompt, options.ifMatch, options.force ?? false));
  }

  restorePrompt(prompt: PromptRef): Promise<Prompt> {
    return this.send(ops.restorePrompt(prompt));
  }

  purgePrompt(prompt: PromptRef): Promise<void> {
    return this.send(ops.purgePrompt(prompt));
  }

  /** The prompt's timeline, newest first. */
  listEvents(prompt: PromptRef, options: PageOptions = {}): Promise<Page<Event>> {
    return this.send(ops.listEvents(prompt, { ...options }));
  }

  iterEvents(prompt: PromptRef): AsyncGenerator<Event> {
    return this.items((cursor) => ops.listEvents(prompt, { limit: 200, cursor }));
  }

  // --- versions -----------------------------------------------------------------------------

  /** Snapshot `content` (default: the working copy) as a new, immutable version; the active
   * one stays unless `activate`. */
  async createVersion(prompt: PromptRef, options: CreateVersionOptions = {}): Promise<Version> {
    const body: Record<string, unknown> = { activate: options.activate ?? false };
    if (options.messages !== undefined) body["kind"] = "chat";
    if (options.ifChanged) body["if_changed"] = true;
    const fields: Array<[keyof CreateVersionOptions, string]> = [
      ["content", "content"],
      ["modelConfig", "model_config"],
      ["versionName", "version_name"],
      ["description", "description"],
      ["messages", "messages"],
      ["templateFormat", "template_format"],
    ];
    for (const [key, name] of fields) if (options[key] !== undefined) body[name] = options[key];
    return new Version(await this.send(ops.createVersion(prompt, body, options.idempotencyKey)));
  }

  /** Render on the server (includes resolved there, Jinja too): the active version, or
   * `version` (a number, label or version name). Names the version it rendered on the
   * current span, and the label `active` when no version was given (as the Python client). */
  async render(prompt: PromptRef, variables: Variables, options: { version?: string | number } = {}): Promise<RenderResult> {
    const span = otel.recordingSpan(); // the caller's span, taken before the request
    const out = await this.send(ops.render(prompt, variables, options.version));
    otel.annotate(span, out.promptName, out.version.id, options.version === undefined ? "active" : null);
    return out;
  }

  /** History, newest first; `archived` filters. */
  listVersions(
    prompt: PromptRef,
    options: PageOptions & { name?: string; archived?: boolean } = {},
  ): Promise<Page<VersionSummary>> {
    const { archived, ...rest } = options;
    return this.send(ops.listVersions(prompt, { ...rest, archived: flag(archived) }));
  }

  iterVersions(prompt: PromptRef, options: { archived?: boolean } = {}): AsyncGenerator<VersionSummary> {
    return this.items((cursor) =>
      ops.listVersions(prompt, { limit: 200, cursor, archived: flag(options.archived) }),
    );
  }

  /** One version in full, by id or by version name. */
  async getVersion(prompt: PromptRef, version: VersionRef): Promise<Version> {
    const [asId, name] = versionRef(version);
    if (asId !== null) {
      try {
        return new Version(await this.send(ops.getVersion(prompt, asId)));
      } catch (exc) {
        if (!(exc instanceof VersionNotFound) || name === null) throw exc;
      }
    }
    const page = await this.listVersions(prompt, { name: name ?? "" });
    const found = page.items[0];
    if (found === undefined) {
      throw new VersionNotFound(`prompt '${prompt}' has no version '${name}'`, { status: 404 });
    }
    return new Version(await this.send(ops.getVersion(prompt, found.id)));
  }

  protected async versionId(prompt: PromptRef, version: VersionRef): Promise<number> {
    return typeof version === "number" ? version : (await this.getVersion(prompt, version)).id;
  }

  /** Make `version` (id or name) the active one, or with `label` point that label at it. */
  async rollback(
    prompt: PromptRef,
    version: VersionRef,
    options: { ifMatch?: string; label?: string } = {},
  ): Promise<RollbackResult> {
    const id = await this.versionId(prompt, version);
    const out = await this.send(ops.rollback(prompt, id, options.ifMatch, options.label));
    return { ...out, version: new Version(out.version) };
  }

  async archiveVersion(prompt: PromptRef, version: VersionRef): Promise<Version> {
    const id = await this.versionId(prompt, version);
    return new Version(await this.send(ops.versionAction(prompt, id, "archive")));
  }

  async restoreVersion(prompt: PromptRef, version: VersionRef): Promise<Version> {
    const id = await this.versionId(prompt, version);
    return new Version(await this.send(ops.versionAction(prompt, id, "restore")));
  }

  /** Destroy a version's content for good (a tombstone stays, with `reason`). */
  async purgeVersion(prompt: PromptRef, version: VersionRef, options: { reason: string }): Promise<Version> {
    const id = await this.versionId(prompt, version);
    return new Version(await this.send(ops.versionAction(prompt, id, "purge", options.reason)));
  }

  getStorage(prompt: PromptRef): Promise<Storage> {
    return this.send(ops.getStorage(prompt));
  }

  /** What a version includes. */
  async dependencies(prompt: PromptRef, version: VersionRef): Promise<Include[]> {
    return this.send(ops.includes(prompt, await this.versionId(prompt, version), "dependencies"));
  }

  /** Unpurged versions that include this version. */
  async dependents(prompt: PromptRef, version: VersionRef): Promise<Include[]> {
    return this.send(ops.includes(prompt, await this.versionId(prompt, version), "dependents"));
  }

  // --- labels and deploy requests -----------------------------------------------------------

  /** The prompt's labels, `active` first, each with its version and etag. */
  listLabels(prompt: PromptRef): Promise<Label[]> {
    return this.send(ops.listLabels(prompt));
  }

  getLabel(prompt: PromptRef, label: string): Promise<Label> {
    return this.send(ops.getLabel(prompt, label));
  }

  /** Point `label` at `version`; `ifMatch` (the label's etag) makes it a compare-and-swap. */
  async moveLabel(
    prompt: PromptRef,
    label: string,
    version: VersionRef,
    options: { reason?: string; ifMatch?: string } = {},
  ): Promise<Moved> {
    const id = await this.versionId(prompt, version);
    return this.send(ops.moveLabel(prompt, label, id, options.reason, options.ifMatch));
  }

  async removeLabel(prompt: PromptRef, label: string, options: { reason?: string; ifMatch?: string } = {}): Promise<void> {
    await this.send(ops.removeLabel(prompt, label, options.reason, options.ifMatch));
  }

  protectLabel(prompt: PromptRef, label: string, protect = true): Promise<Label> {
    return this.send(ops.protectLabel(prompt, label, protect));
  }

  /** Undo the label's last move (itself recorded as a move). */
  revertLabel(prompt: PromptRef, label: string, options: { ifMatch?: string } = {}): Promise<Moved> {
    return this.send(ops.revertLabel(prompt, label, options.ifMatch));
  }

  /** One label's moves, newest first; no label: every label's (the deploys). */
  labelHistory(prompt: PromptRef, label?: string, options: PageOptions = {}): Promise<Page<LabelMove>> {
    return this.send(ops.labelHistory(prompt, label, { ...options }));
  }

  async proposeDeploy(prompt: PromptRef, label: string, version: VersionRef, options: { reason: string }): Promise<Deploy> {
    const id = await this.versionId(prompt, version);
    return this.send(ops.proposeDeploy(prompt, label, id, options.reason));
  }

  getDeploy(prompt: PromptRef, requestId: number): Promise<Deploy> {
    return this.send(ops.getDeploy(prompt, requestId));
  }

  listDeploys(prompt: PromptRef, options: PageOptions & { status?: string } = {}): Promise<Page<Deploy>> {
    return this.send(ops.listDeploys(prompt, { ...options }));
  }

  approveDeploy(prompt: PromptRef, requestId: number, options: { reason?: string } = {}): Promise<Deploy> {
    return this.send(ops.decideDeploy(prompt, requestId, true, options.reason));
  }

  rejectDeploy(prompt: PromptRef, requestId: number, options: { reason?: string } = {}): Promise<Deploy> {
    return this.send(ops.decideDeploy(prompt, requestId, false, options.reason));
  }

  // --- impact -------------------------------------------------------------------------------

  /** Per version and label period: counts, rates with intervals; `compare: [a, b]`. */
  impact(
    prompt: PromptRef,
    options: { since?: string; until?: string; label?: string; compare?: [number, number] } = {},
  ): Promise<Impact> {
    const { compare, ...rest } = options;
    const params: Params = { ...rest, compare: compare ? `${compare[0]},${compare[1]}` : null };
    return this.send(ops.impact(prompt, params));
  }

  /** A page of the prompt's kept raw outcomes, newest first. */
  listOutcomes(
    prompt: PromptRef,
    options: PageOptions & { versionId?: number; since?: string; until?: string } = {},
  ): Promise<RawOutcomes> {
    const { versionId, ...rest } = options;
    return this.send(ops.listOutcomes(prompt, { ...rest, version_id: versionId }));
  }

  iterOutcomes(
    prompt: PromptRef,
    options: { versionId?: number; since?: string; until?: string } = {},
  ): AsyncGenerator<RawOutcome> {
    const { versionId, ...rest } = options;
    return this.items((cursor) =>
      ops.listOutcomes(prompt, { ...rest, version_id: versionId, limit: 200, cursor }),
    );
  }

  listAlerts(prompt: PromptRef): Promise<Alert[]> {
    return this.send(ops.listAlerts(prompt));
  }

  setAlert(
    prompt: PromptRef,
    label: string,
    options: { minSuccess: number; windowMinutes?: number; minCount?: number },
  ): Promise<Alert> {
    return this.send(
      ops.setAlert(prompt, label, {
        min_success: options.minSuccess,
        window_minutes: options.windowMinutes ?? 15,
        min_count: options.minCount ?? 20,
      }),
    );
  }

  removeAlert(prompt: PromptRef, label: string): Promise<void> {
    return this.send(ops.removeAlert(prompt, label));
  }

  health(): Promise<Record<string, unknown>> {
    return this.send(ops.health());
  }
}

function flag(value: boolean | undefined): string | null {
  return value === undefined ? null : value ? "true" : "false";
}
