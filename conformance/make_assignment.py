"""Writes conformance/assignment.json: the cases every client's rollout assignment must
reproduce (the spec is in conformance/README.md and docs/rollouts.md).

    python conformance/make_assignment.py     # rewrite it (tests check it is up to date)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from promptdeck import limits
from promptdeck.domain.rollouts import assign

HERE = Path(__file__).resolve().parent
TARGET = HERE / "assignment.json"
SPEC = (
    'bucket = uint32 big-endian of the first 4 bytes of SHA-256(UTF-8(salt + ":" + key)), '
    "mod 10000; arm = candidate if bucket < basis_points (percent x 100, an integer) else "
    "baseline. Keys: Unicode text of at most 512 UTF-8 bytes (a lone surrogate is refused); "
    "salts: 1 to 64 of [A-Za-z0-9_-]."
)
SALTS = ("4f1c2a9e8b7d6c5a4f1c2a9e8b7d6c5a", "s", "rollout_2026-12-07", "Z" * 64)
KEYS = (
    "",
    " ",
    "0",
    "user-1",
    "user-2",
    "User-1",
    "alice@example.com",
    "a:b",  # a colon in the key: only the salt's end is fixed
    ":",
    "session:7f3a",
    "e\u0301",  # é decomposed: not normalized, so not the same key as U+00E9
    "\u00e9",
    "ß",
    "Straße",
    "日本語のユーザー",
    "사용자",
    "مستخدم",  # right to left
    "\u202etxt",  # a bidi override: bytes as given
    "\u00a0nbsp",
    "tab\there",
    "line\nbreak",
    "nul\x00inside",
    "\U0001f600",  # astral: one code point, four UTF-8 bytes, two UTF-16 units
    "\U0001f469\u200d\U0001f4bb",  # a ZWJ sequence
    "\U0001f1eb\U0001f1f7",  # a flag: two regional indicators
    "\U00010348",  # Gothic hwair
    "\U0010ffff",  # the last code point
    "\ufeffbom",
    "\ufffd",
    "a" * 512,  # the longest ASCII key
    "é" * 256,  # 512 bytes of two-byte characters
    "\U0001f600" * 128,  # 512 bytes of four-byte characters
    "x" * 511 + "y",
    "1234567890" * 20,
)
PERCENTS = (0, 0.01, 1, 5, 12.5, 25, 33.33, 50, 99.99, 100)
REFUSED_KEYS = (
    "\ud800",  # a lone high surrogate
    "a\udfffb",  # a lone low surrogate
    "a" * 513,
    "é" * 256 + "a",  # 513 bytes
    "\U0001f600" * 128 + "a",
)
GENERATED = 10_000  # keys "user-0" … "user-9999" under the first salt


def cases() -> dict[str, Any]:
    buckets = [
        {"key": key, "salt": salt, "bucket": assign.bucket(salt, key)}
        for salt in SALTS
        for key in KEYS
    ]
    arms = [
        {
            "key": case["key"],
            "salt": case["salt"],
            "percent": share,
            "basis_points": assign.basis_points(share),
            "arm": assign.arm_of(case["bucket"], assign.basis_points(share)),
        }
        for case in buckets[: len(KEYS)]
        for share in PERCENTS
    ]
    # The edges of `<`: a share exactly at a key's bucket leaves it on the baseline, one
    # basis point more moves it to the candidate.
    for case in buckets[len(KEYS) : 2 * len(KEYS)]:
        for points in (case["bucket"], case["bucket"] + 1):
            if 0 < points <= limits.ROLLOUT_BUCKETS:
                arms.append(
                    {
                        "key": case["key"],
                        "salt": case["salt"],
                        "percent": assign.percent(points),
                        "basis_points": points,
                        "arm": assign.arm_of(case["bucket"], points),
                    }
                )
    salt = SALTS[0]
    return {
        "spec": SPEC,
        "buckets": buckets,
        "arms": arms,
        "refused_keys": list(REFUSED_KEYS),
        "generated": {
            "salt": salt,
            "keys": f'"user-" followed by i in decimal, for i from 0 to {GENERATED - 1}',
            "buckets": [assign.bucket(salt, f"user-{i}") for i in range(GENERATED)],
        },
    }


def render() -> str:
    """One case a line. ASCII only: every other character is a JSON escape, which a reader
    decodes (a lone surrogate included, which UTF-8 cannot carry)."""
    data = cases()

    def line(value: object) -> str:
        return json.dumps(value, ensure_ascii=True)

    def items(name: str) -> str:
        rows = ",\n".join(f"  {line(case)}" for case in data[name])
        return f'"{name}": [\n{rows}\n ]'

    generated = data["generated"]
    parts = [
        f'"spec": {line(data["spec"])}',
        items("buckets"),
        items("arms"),
        items("refused_keys"),
        '"generated": {\n'
        f'  "salt": {line(generated["salt"])},\n'
        f'  "keys": {line(generated["keys"])},\n'
        f'  "buckets": {line(generated["buckets"])}\n'
        " }",
    ]
    return "{\n " + ",\n ".join(parts) + "\n}\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    sys.stdout.write(f"wrote {TARGET}\n")
