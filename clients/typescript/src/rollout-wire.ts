/**
 * THE ROLLOUT WIRE ADAPTER: the one place that reads how the server tells a client a label's
 * rollout state (its split: the rollout, baseline, candidate, share and salt), so that
 * `getActive(name, { label, key })` assigns the key here, with no request. If the server's
 * format changes, only this file changes.
 *
 * Assumed (the server's branch `rollouts`, as of its commit 22443ee; not merged when this was
 * written):
 *
 * - `GET /prompts/{p}/active?label=…&key=…` answers (200 and 304) carry, while the label's
 *   rollout runs or is paused, the header
 *   `Promptdeck-Rollout: id=3, baseline=4, candidate=9, basis-points=500, salt="4f1c…"`
 *   (`domain/rollouts/split.py`); no header: the label serves one version to every caller.
 *   A `rollout` object in the answer's body, shaped as below, is read too when there is no
 *   header (in case the state moves into the body).
 * - `GET /changes`: a `move` event of kind `rollout.*` (started, advanced, paused, resumed,
 *   completed, rolled_back, aborted) names its `label` and carries `rollout: {id, status,
 *   step, percent, basis_points, baseline_id, candidate_id, salt}` (`schemas/changes.py`
 *   `RolloutSplitOut`).
 *
 * Without any of this (a server without rollouts), `key` is still sent as `?key=` on every
 * request the cache makes, so the server assigns whatever this client can read.
 */

import { Split } from "./assign.js";
import { ServerError } from "./errors.js";
import { ROLLOUT_BUCKETS } from "./limits.js";

export const ROLLOUT_HEADER = "Promptdeck-Rollout";
const FIELD = /^\s*([a-z-]+)=("[A-Za-z0-9_-]*"|\d{1,18})\s*$/;
const LIVE = new Set(["running", "paused"]);

/** The header's value as a Split; ServerError when it is not one the server writes. */
export function parseRolloutHeader(value: string): Split {
  const unreadable = (why: string): ServerError =>
    new ServerError(`an unreadable ${ROLLOUT_HEADER} header (${why}): ${JSON.stringify(value.slice(0, 200))}`);
  const fields = new Map<string, string>();
  for (const part of value.split(",")) {
    const found = FIELD.exec(part);
    if (found === null) throw unreadable("not key=value");
    fields.set(found[1] as string, found[2] as string);
  }
  const ints = ["id", "baseline", "candidate", "basis-points"].map((name) => {
    const text = fields.get(name);
    if (text === undefined || !/^\d+$/.test(text)) throw unreadable(`no integer ${name}`);
    return Number(text);
  }) as [number, number, number, number];
  const salt = fields.get("salt");
  if (salt === undefined || !salt.startsWith('"')) throw unreadable("no salt");
  if (ints[3] > ROLLOUT_BUCKETS) throw unreadable("basis-points out of range");
  try {
    return new Split(ints[0], ints[1], ints[2], ints[3], salt.slice(1, -1));
  } catch {
    throw unreadable("a bad salt");
  }
}

function int(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** A `rollout` object (an event's, or an answer body's) as a Split; null when unreadable. */
export function splitOfObject(rollout: unknown): Split | null {
  if (rollout === null || typeof rollout !== "object") return null;
  const r = rollout as Record<string, unknown>;
  const [id, baseline, candidate, bp] = [r["id"], r["baseline_id"], r["candidate_id"], r["basis_points"]].map(int);
  if (id == null || baseline == null || candidate == null || bp == null || bp > ROLLOUT_BUCKETS) return null;
  if (typeof r["salt"] !== "string") return null;
  try {
    return new Split(id, baseline, candidate, bp, r["salt"]);
  } catch {
    return null;
  }
}

/** The label's split as an answer of GET …/active tells it: null when it has none. */
export function splitOfAnswer(headers: { get(name: string): string | null }, body: unknown): Split | null {
  const header = headers.get(ROLLOUT_HEADER);
  if (header !== null) return parseRolloutHeader(header);
  if (body !== null && typeof body === "object" && "rollout" in body) {
    return splitOfObject((body as Record<string, unknown>)["rollout"]);
  }
  return null;
}

/**
 * What a pushed move (its JSON, as the server sent it) says of a rollout: `live` with the
 * split every caller of its label is assigned from now (running or paused); `ended`, after
 * which the label serves one version again (completed, rolled back, aborted); null for a move
 * that is not a rollout's, or that this client cannot read (it then expires the label's copies,
 * as for any move).
 */
export function rolloutOfMove(move: unknown): { live: Split } | { ended: true } | null {
  if (move === null || typeof move !== "object") return null;
  const m = move as Record<string, unknown>;
  const kind = m["kind"];
  const rollout = m["rollout"];
  if (typeof kind !== "string" || !kind.startsWith("rollout.") || rollout === null || typeof rollout !== "object") {
    return null;
  }
  const status = (rollout as Record<string, unknown>)["status"];
  if (typeof status !== "string") return null;
  if (!LIVE.has(status)) return { ended: true };
  const split = splitOfObject(rollout);
  return split === null ? null : { live: split };
}
