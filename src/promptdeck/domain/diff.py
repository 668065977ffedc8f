"""Text and config diffs for people: line-level, with word-level highlights inside lines.

Pure functions over difflib, no I/O: the UI renders them, other faces may reuse them.
``unified`` gives one column of lines, ``side_by_side`` two aligned columns; in both, a
changed line carries ``Segment``s whose ``changed`` flag marks the words that differ.
``config_changes`` lists what changed between two model configs, key by key. ``patch`` writes
``unified`` as the text ``diff -u`` prints (the command line's diff).
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["equal", "delete", "insert"]

#: Above this many characters a line is compared as a whole, not word by word (difflib is
#: quadratic in the worst case and prompts may be a megabyte).
WORD_DIFF_MAX_CHARS = 10_000

# Bounded work (docs/api.md, "Limits"): difflib is quadratic or worse on repetitive input
# (two 24 KB versions took minutes), so past these sizes the diff is coarser, and
# ``is_coarse`` says so (the compare page tells the reader). Lines the two texts share at
# the start and the end are always matched, in linear time.
#: old lines x new lines (after the shared start and end) compared line by line.
LINE_PRODUCT_MAX = 250_000
#: old words x new words of one changed line compared word by word.
WORD_PRODUCT_MAX = 40_000
#: the sum of those products over one whole diff.
WORD_PRODUCT_BUDGET = 400_000

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    changed: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a diff: its kind, its numbers on each side, and its segments."""

    kind: Kind
    old_number: int | None
    new_number: int | None
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass(frozen=True, slots=True)
class Skip:
    """Unchanged lines left out of a diff shown with context."""

    count: int


@dataclass(frozen=True, slots=True)
class Row:
    """A row of a side-by-side diff; a side is None where the other side has no match."""

    left: Line | None
    right: Line | None


@dataclass(frozen=True, slots=True)
class WordOp:
    kind: Literal["equal", "delete", "insert"]
    text: str


@dataclass(frozen=True, slots=True)
class ConfigChange:
    key: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


def words(text: str) -> list[str]:
    """Tokens whose concatenation is ``text``: words, runs of whitespace, punctuation."""
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> list[WordOp]:
    """Word-level edit script from ``old`` to ``new``: equal, deleted and inserted runs.

    Whitespace alone between two changes does not count as a match, so "Hello world" to
    "Bye you" is one change, not two changes around a shared space."""
    a, b = words(old), words(new)
    codes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    ops: list[WordOp] = []
    dels: list[str] = []
    ins: list[str] = []

    def flush() -> None:
        if dels and "".join(dels):
            ops.append(WordOp("delete", "".join(dels)))
        if ins and "".join(ins):
            ops.append(WordOp("insert", "".join(ins)))
        dels.clear()
        ins.clear()

    for index, (tag, i1, i2, j1, j2) in enumerate(codes):
        if tag == "equal":
            text = "".join(a[i1:i2])
            if 0 < index < len(codes) - 1 and not text.strip():
                dels.append(text)
                ins.append(text)
                continue
            flush()
            ops.append(WordOp("equal", text))
        else:
            dels.append("".join(a[i1:i2]))
            ins.append("".join(b[j1:j2]))
    flush()
    return ops


def _marked(text: str) -> list[Segment]:
    """A changed run, with the whitespace at its edges left unmarked (unless it is all
    whitespace), so a highlight covers words, not the spaces around them."""
    core = text.strip()
    if not core:
        return [Segment(text, True)]
    start = text.index(core)
    edges = (text[:start], text[start + len(core) :])
    return [s for s in (Segment(edges[0]), Segment(core, True), Segment(edges[1])) if s.text]


class _Budget:
    """What is left of one diff's word-diff work; ``coarse`` once something was cut short."""

    def __init__(self) -> None:
        self.left = WORD_PRODUCT_BUDGET
        self.coarse = False

    def spend(self, old: str, new: str) -> bool:
        if len(old) > WORD_DIFF_MAX_CHARS or len(new) > WORD_DIFF_MAX_CHARS:
            return False
        cost = len(words(old)) * len(words(new))
        if cost > WORD_PRODUCT_MAX or cost > self.left:
            self.coarse = True
            return False
        self.left -= cost
        return True


def _pair_segments(
    old: str, new: str, budget: _Budget | None = None
) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Segments of an old and a new line with the differing words marked (whole lines when
    the budget says the word diff would cost too much)."""
    if not (budget or _Budget()).spend(old, new):
        return (Segment(old, True),), (Segment(new, True),)
    left: list[Segment] = []
    right: list[Segment] = []
    for op in word_diff(old, new):
        if op.kind == "equal":
            left.append(Segment(op.text))
            right.append(Segment(op.text))
        elif op.kind == "delete":
            left.extend(_marked(op.text))
        else:
            right.extend(_marked(op.text))
    return tuple(left), tuple(right)


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[str], b: list[str]) -> tuple[list[Opcode], bool]:
    """difflib's opcodes, with the shared first and last lines matched in linear time; a
    middle larger than LINE_PRODUCT_MAX is one replaced block (coarse: True)."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    mid_a, mid_b = a[start : len(a) - end], b[start : len(b) - end]
    coarse = len(mid_a) * len(mid_b) > LINE_PRODUCT_MAX
    codes: list[Opcode] = []
    if start:
        codes.append(("equal", 0, start, 0, start))
    if coarse:
        codes.append(("replace", start, start + len(mid_a), start, start + len(mid_b)))
    elif mid_a or mid_b:
        matcher = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            codes.append((tag, i1 + start, i2 + start, j1 + start, j2 + start))
    if end:
        codes.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    return codes, coarse


def is_coarse(old: str, new: str) -> bool:
    """True when the diff of ``old`` and ``new`` is coarser than usual (past the bounds)."""
    return _analysis(old, new)[1]


def _blocks(old: str, new: str) -> list[tuple[list[Line], list[Line]]]:
    """Aligned blocks of (old lines, new lines); equal blocks have the same lines twice."""
    return _analysis(old, new)[0]


@functools.lru_cache(maxsize=1)  # a page asks three times; one pair of texts kept at most
def _analysis(old: str, new: str) -> tuple[list[tuple[list[Line], list[Line]]], bool]:
    a, b = old.splitlines(), new.splitlines()
    out: list[tuple[list[Line], list[Line]]] = []
    codes, coarse = _opcodes(a, b)
    budget = _Budget()
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal":
            same = [
                Line("equal", i1 + k + 1, j1 + k + 1, (Segment(a[i1 + k]),)) for k in range(i2 - i1)
            ]
            out.append((same, same))
            continue
        dels: list[Line] = []
        ins: list[Line] = []
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(pairs):
            left, right = _pair_segments(a[i1 + k], b[j1 + k], budget)
            dels.append(Line("delete", i1 + k + 1, None, left))
            ins.append(Line("insert", None, j1 + k + 1, right))
        for k in range(pairs, i2 - i1):
            dels.append(Line("delete", i1 + k + 1, None, (Segment(a[i1 + k], True),)))
        for k in range(pairs, j2 - j1):
            ins.append(Line("insert", None, j1 + k + 1, (Segment(b[j1 + k], True),)))
        out.append((dels, ins))
    return out, coarse or budget.coarse


def _with_context(items: list[Any], is_equal: list[bool], context: int | None) -> list[Any]:
    """Keep ``context`` unchanged items around each change; replace longer runs by a Skip."""
    if context is None:
        return items
    keep = [not eq for eq in is_equal]
    if not any(keep):
        return [Skip(len(items))] if items else []
    near = list(keep)
    for i, changed in enumerate(keep):
        if changed:
            for j in range(max(0, i - context), min(len(items), i + context + 1)):
                near[j] = True
    out: list[Any] = []
    skipped = 0
    for item, shown in zip(items, near, strict=True):
        if shown:
            if skipped:
                out.append(Skip(skipped))
                skipped = 0
            out.append(item)
        else:
            skipped += 1
    if skipped:
        out.append(Skip(skipped))
    return out


def unified(old: str, new: str, *, context: int | None = None) -> list[Line | Skip]:
    """One column: unchanged lines once, then removed lines, then added lines, per change."""
    lines: list[Line] = []
    for dels, ins in _blocks(old, new):
        if dels is ins:
            lines.extend(dels)
        else:
            lines.extend(dels)
            lines.extend(ins)
    return _with_context(lines, [ln.kind == "equal" for ln in lines], context)


def patch(old: str, new: str, *, old_name: str, new_name: str, context: int = 3) -> str:
    """``unified`` as the text ``diff -u`` prints: ``---``/``+++`` names, then ``@@`` hunks of
    the changes with ``context`` lines around each; "" when nothing changed."""
    hunks: list[tuple[int, int, list[Line]]] = []  # (lines before it on each side, its lines)
    at_old = at_new = 0
    gap = True
    for item in unified(old, new, context=context):
        if isinstance(item, Skip):
            at_old, at_new, gap = at_old + item.count, at_new + item.count, True
            continue
        if gap:
            hunks.append((at_old, at_new, []))
            gap = False
        hunks[-1][2].append(item)
        at_old += item.kind != "insert"
        at_new += item.kind != "delete"
    if all(line.kind == "equal" for _, _, lines in hunks for line in lines):
        return ""
    out = [f"--- {old_name}", f"+++ {new_name}"]
    for start_old, start_new, lines in hunks:
        old_range = _range(start_old, _span(lines, "insert"))
        new_range = _range(start_new, _span(lines, "delete"))
        out.append(f"@@ -{old_range} +{new_range} @@")
        out += [_MARK[line.kind] + line.text for line in lines]
    return "\n".join(out) + "\n"


_MARK = {"equal": " ", "delete": "-", "insert": "+"}


def _span(lines: list[Line], other: Kind) -> int:
    """How many of ``lines`` stand on one side: all but the ``other`` side's."""
    return sum(line.kind != other for line in lines)


def _range(start: int, length: int) -> str:
    """A hunk's range on one side, as difflib writes it (``start`` lines come before it)."""
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def side_by_side(old: str, new: str, *, context: int | None = None) -> list[Row | Skip]:
    """Two aligned columns: old on the left, new on the right."""
    rows: list[Row] = []
    for dels, ins in _blocks(old, new):
        if dels is ins:
            rows.extend(Row(line, line) for line in dels)
            continue
        for k in range(max(len(dels), len(ins))):
            rows.append(Row(dels[k] if k < len(dels) else None, ins[k] if k < len(ins) else None))
    equal = [r.left is not None and r.left.kind == "equal" for r in rows]
    return _with_context(rows, equal, context)


def stats(old: str, new: str) -> tuple[int, int]:
    """(lines added, lines removed) from ``old`` to ``new``."""
    added = removed = 0
    for dels, ins in _blocks(old, new):
        if dels is not ins:
            removed += len(dels)
            added += len(ins)
    return added, removed


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key in sorted(value):
            flat.update(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value} if prefix else {}


def config_changes(old: dict[str, Any], new: dict[str, Any]) -> list[ConfigChange]:
    """Key-by-key changes between two model configs; nested keys are dotted (``a.b``)."""
    a, b = _flatten(old), _flatten(new)
    changes: list[ConfigChange] = []
    for key in sorted(set(a) | set(b)):
        if key not in b:
            changes.append(ConfigChange(key, "removed", old=a[key]))
        elif key not in a:
            changes.append(ConfigChange(key, "added", new=b[key]))
        elif json.dumps(a[key], sort_keys=True) != json.dumps(b[key], sort_keys=True):
            changes.append(ConfigChange(key, "changed", old=a[key], new=b[key]))
    return changes


@dataclass(frozen=True, slots=True)
class MessageChange:
    """One message of a chat diff: kept, changed (role or content), added or removed; a
    changed, added or removed message carries the line diff of its content."""

    kind: Literal["equal", "changed", "added", "removed"]
    old_index: int | None
    new_index: int | None
    role: str
    old_role: str | None
    lines: list[Line | Skip]


def _message_text(message: dict[str, str]) -> str:
    return message.get("content", "{{" + message.get("name", "") + "}} (placeholder)")


def messages(
    old: list[dict[str, str]], new: list[dict[str, str]], *, context: int | None = 3
) -> list[MessageChange]:
    """Chat versions compared message by message: messages are aligned on (role, content),
    then those replaced in place are paired and their contents diffed line by line."""
    keys_old = [(m["role"], _message_text(m)) for m in old]
    keys_new = [(m["role"], _message_text(m)) for m in new]
    out: list[MessageChange] = []
    matcher = difflib.SequenceMatcher(None, keys_old, keys_new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out += [
                MessageChange("equal", i, j, keys_new[j][0], None, [])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        paired = min(i2 - i1, j2 - j1)
        for k in range(paired):
            (old_role, old_text), (role, text) = keys_old[i1 + k], keys_new[j1 + k]
            out.append(
                MessageChange(
                    "changed",
                    i1 + k,
                    j1 + k,
                    role,
                    old_role if old_role != role else None,
                    unified(old_text, text, context=context),
                )
            )
        for i in range(i1 + paired, i2):
            out.append(
                MessageChange("removed", i, None, keys_old[i][0], None, unified(keys_old[i][1], ""))
            )
        for j in range(j1 + paired, j2):
            out.append(
                MessageChange("added", None, j, keys_new[j][0], None, unified("", keys_new[j][1]))
            )
    return out
