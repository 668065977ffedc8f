/**
 * Which arm of a rollout a key gets: the hash the server and the Python client compute
 * (`promptdeck/domain/rollouts/assign.py`; docs/rollouts.md, "Assignment"), bit for bit, for
 * every case of `conformance/assignment.json`:
 *
 *     bucket = uint32_be(SHA-256(UTF-8(salt + ":" + key))[0..4]) mod 10000
 *     arm    = "candidate" if bucket < basis_points else "baseline"
 *
 * A key is any Unicode text of at most 512 bytes in UTF-8, hashed exactly as given; one that
 * holds a lone surrogate (JavaScript strings can) or is longer is refused, never replaced, so
 * two clients cannot disagree on its bytes.
 */

import { InvalidInput } from "./errors.js";
import { ROLLOUT_BUCKETS, ROLLOUT_KEY_MAX_BYTES, ROLLOUT_SALT_MAX } from "./limits.js";
import { sha256 } from "./sha256.js";

export type Arm = "baseline" | "candidate";

const SALT = new RegExp(`^[A-Za-z0-9_-]{1,${ROLLOUT_SALT_MAX}}$`);
const encoder = new TextEncoder();

/** The key's length in UTF-8 bytes, or InvalidInput (`field: "key"`) as the server refuses
 * it: a lone surrogate (at its index in code points, as Python counts), over 512 bytes. */
export function checkKey(key: string): number {
  let bytes = 0;
  let codePoint = 0;
  for (let i = 0; i < key.length; i++, codePoint++) {
    const c = key.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c < 0xd800 || c > 0xdfff) bytes += 3;
    else {
      const d = key.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) {
        const hex = c.toString(16).toUpperCase().padStart(4, "0");
        throw new InvalidInput(`key holds a lone surrogate (U+${hex} at ${codePoint}): not Unicode text`, {
          field: "key",
        });
      }
      bytes += 4;
      i += 1;
    }
  }
  if (bytes > ROLLOUT_KEY_MAX_BYTES) {
    throw new InvalidInput(`key is ${bytes} bytes of UTF-8, more than ${ROLLOUT_KEY_MAX_BYTES}`, { field: "key" });
  }
  return bytes;
}

export function checkSalt(salt: string): string {
  if (!SALT.test(salt)) {
    throw new InvalidInput(`salt must be 1 to ${ROLLOUT_SALT_MAX} characters of [A-Za-z0-9_-]`, { field: "salt" });
  }
  return salt;
}

function hashed(prefix: Uint8Array, key: string): number {
  checkKey(key);
  const data = encoder.encode(key);
  const message = new Uint8Array(prefix.length + data.length);
  message.set(prefix);
  message.set(data, prefix.length);
  const digest = sha256(message);
  const first = (((digest[0] as number) << 24) | ((digest[1] as number) << 16) | ((digest[2] as number) << 8) | (digest[3] as number)) >>> 0;
  return first % ROLLOUT_BUCKETS;
}

/** The key's bucket in [0, 10000) under this salt. */
export function bucket(salt: string, key: string): number {
  return hashed(encoder.encode(`${checkSalt(salt)}:`), key);
}

/** The candidate takes the buckets below its share: raising the share only adds buckets. */
export function armOf(basisPoints: number, bucket_: number): Arm {
  return bucket_ < basisPoints ? "candidate" : "baseline";
}

/** A request without a key: a fresh bucket each time (no stickiness). */
export function randomBucket(): number {
  return Math.floor(Math.random() * ROLLOUT_BUCKETS);
}

/** A share in percent with at most two decimals (12.5, 0.25) as basis points (1250, 25). */
export function basisPoints(percent: number): number {
  const found = Math.round(percent * 100);
  if (!(Math.abs(percent * 100 - found) <= 1e-6)) throw new RangeError(`${percent} has more than two decimals`);
  return found;
}

/**
 * A label's live split: the label serves `baseline`; keys whose bucket is below
 * `basisPoints` get `candidate` (the server's `domain/rollouts/split.py`). The salt is checked
 * and encoded once.
 */
export class Split {
  private readonly prefix: Uint8Array;

  constructor(
    readonly rolloutId: number,
    readonly baseline: number,
    readonly candidate: number,
    readonly basisPoints: number,
    readonly salt: string,
  ) {
    this.prefix = encoder.encode(`${checkSalt(salt)}:`);
  }

  bucket(key: string): number {
    return hashed(this.prefix, key);
  }

  /** The version a caller with `key` gets (undefined: a random arm, drawn per call). */
  pick(key: string | undefined): number {
    const b = key === undefined ? randomBucket() : this.bucket(key);
    return armOf(this.basisPoints, b) === "candidate" ? this.candidate : this.baseline;
  }

  /** Whether two splits assign every caller alike. */
  same(other: Split | null): boolean {
    return (
      other !== null &&
      other.rolloutId === this.rolloutId &&
      other.baseline === this.baseline &&
      other.candidate === this.candidate &&
      other.basisPoints === this.basisPoints &&
      other.salt === this.salt
    );
  }
}
