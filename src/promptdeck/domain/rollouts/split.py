"""A label's live split: what the hot path and the clients need to give a caller its
version, and how the server tells a client (the ``Promptdeck-Rollout`` header of every
``GET …/active`` answer while the label's rollout runs or is paused):

    Promptdeck-Rollout: id=3, baseline=4, candidate=9, basis-points=500, salt="4f1c…"

A structured-field dictionary (RFC 8941) of integers and one string (a salt is
``[A-Za-z0-9_-]``, so it needs no escapes). No header: the label serves its own version to
every caller. Light (hashlib, through ``assign``): the client imports it.
"""

from __future__ import annotations

import re

from promptdeck.domain.rollouts import assign
from promptdeck.errors import InvalidInput

HEADER = "Promptdeck-Rollout"
_FIELD = re.compile(r'\s*([a-z-]+)=("[A-Za-z0-9_-]*"|\d{1,18})\s*')
_INTS = ("id", "baseline", "candidate", "basis-points")


class Split:
    """The label serves ``baseline``; keys whose bucket is below ``basis_points`` get
    ``candidate``. The salt is hashed once (``assign.Salted``)."""

    __slots__ = (
        "_salted",
        "baseline",
        "basis_points",
        "candidate",
        "header",
        "header_bytes",
        "rollout_id",
    )

    def __init__(
        self, rollout_id: int, baseline: int, candidate: int, basis_points: int, salt: str
    ) -> None:
        self.rollout_id = rollout_id
        self.baseline = baseline
        self.candidate = candidate
        self.basis_points = basis_points
        self._salted = assign.Salted(salt)
        self.header = (
            f"id={rollout_id}, baseline={baseline}, candidate={candidate}, "
            f'basis-points={basis_points}, salt="{salt}"'
        )
        self.header_bytes = self.header.encode("ascii")

    @property
    def salt(self) -> str:
        return self._salted.salt

    @property
    def key(self) -> tuple[int, int, int, int, str]:
        """What identifies it (two equal keys assign every caller alike)."""
        return (self.rollout_id, self.baseline, self.candidate, self.basis_points, self.salt)

    def pick(self, key: str | None) -> int:
        """The version a caller with ``key`` gets (None: a random arm, drawn per call).
        A key that is not Unicode or is longer than 512 bytes raises InvalidInput."""
        return (
            self.candidate
            if self._salted.assign(key, self.basis_points) == "candidate"
            else (self.baseline)
        )

    @classmethod
    def parse(cls, value: str) -> Split:
        """The header's value; ValueError when it is not one this module writes."""
        fields: dict[str, str] = {}
        for part in value.split(","):
            found = _FIELD.fullmatch(part)
            if found is None:
                raise ValueError(f"not a {HEADER} value: {value[:200]!r}")
            fields[found.group(1)] = found.group(2)
        try:
            ints = [int(fields[name]) for name in _INTS]
            salt = fields["salt"].strip('"')
        except (KeyError, ValueError) as exc:
            raise ValueError(f"not a {HEADER} value: {value[:200]!r}") from exc
        if not 0 <= ints[3] <= assign.BUCKETS:
            raise ValueError(f"{HEADER}: basis-points out of range")
        try:
            return cls(ints[0], ints[1], ints[2], ints[3], salt)
        except InvalidInput as exc:  # a bad salt
            raise ValueError(f"{HEADER}: {exc.detail}") from exc
