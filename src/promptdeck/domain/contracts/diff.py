"""Comparing two contracts: each change, and whether it breaks a caller (docs/contracts.md,
"Breaking changes").

- variables (what callers send): compatible when every value the old schema accepted is
  still accepted. A variable is part of the contract when a schema declares it: a new
  optional variable, or one no longer declared (while extra variables are still allowed),
  is compatible.
- tools: a removed tool, or changed parameters or strictness, is breaking; a new tool or a
  description is compatible.
- response_format (what readers of the answer get): breaking when an answer valid under
  the new schema could fail the old one; a removed property, or one no longer required, is
  breaking even where the old schema did not require it (its readers expect it).

When a change cannot be proven compatible it is breaking, and says why. Proofs beyond the
keyword-by-keyword rules come from jsonschema-rs's canonical forms (``covers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptdeck.domain.contracts.model import Contract, canonical_json
from promptdeck.domain.contracts.paths import number, quote, render_path, scalar
from promptdeck.domain.contracts.schema import ANNOTATIONS, inline

ANY: dict[str, Any] = {}
LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
COMPOSITE = ("allOf", "anyOf", "oneOf", "not", "prefixItems")


@dataclass(frozen=True, slots=True)
class ContractChange:
    path: str
    change: str
    breaking: bool


def _bare(schema: Any) -> Any:
    """The schema without annotations (which change nothing a value must be)."""
    if not isinstance(schema, dict):
        return schema
    return {k: v for k, v in schema.items() if k not in ANNOTATIONS}


def _as_dict(schema: Any) -> dict[str, Any]:
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    return dict(schema)


def _types(schema: dict[str, Any]) -> set[str] | None:
    t = schema.get("type")
    return None if t is None else set(t if isinstance(t, list) else [t])


def _within(inner: set[str] | None, outer: set[str] | None) -> bool:
    if outer is None:
        return True
    if inner is None:
        return False
    return all(t in outer or (t == "integer" and "number" in outer) for t in inner)


def _covers(wide: Any, narrow: Any) -> bool:
    """True only when jsonschema-rs proves ``wide`` accepts every value ``narrow`` does."""
    import jsonschema_rs
    from jsonschema_rs import canonical

    try:
        found = jsonschema_rs.canonicalize(wide).covers(jsonschema_rs.canonicalize(narrow))
    except Exception:  # any schema it cannot reason about: not proven
        return False
    return bool(found == canonical.Containment.YES)


class _Compare:
    """``reader``: False for what callers send (the new schema must accept more), True for
    what readers receive (the new schema must accept less)."""

    def __init__(self, reader: bool) -> None:
        self.reader = reader
        self.changes: list[ContractChange] = []

    def add(self, path: str, change: str, *, tighter: bool, looser: bool) -> None:
        breaking = looser if self.reader else tighter
        self.changes.append(ContractChange(path, change, breaking))

    def proven(self, path: str, what: str, old: Any, new: Any) -> None:
        wide, narrow = (old, new) if self.reader else (new, old)
        if _covers(wide, narrow):
            self.changes.append(ContractChange(path, f"{what} (proven compatible)", False))
        else:
            side = "answer the new" if self.reader else "value the old"
            other = "old" if self.reader else "new"
            self.changes.append(
                ContractChange(
                    path,
                    f"{what}: cannot prove that every {side} schema accepts is accepted by "
                    f"the {other} one",
                    True,
                )
            )

    def schema(self, old: Any, new: Any, path: str) -> None:
        if canonical_json(_bare(old)) == canonical_json(_bare(new)):
            if canonical_json(old) != canonical_json(new):
                self.changes.append(
                    ContractChange(path, "description or annotations changed", False)
                )
            return
        a, b = _as_dict(old), _as_dict(new)
        if (
            isinstance(old, bool)
            or isinstance(new, bool)
            or any(canonical_json(a.get(k)) != canonical_json(b.get(k)) for k in COMPOSITE)
        ):
            self.proven(path, "schema changed", old, new)
            return
        self.types(a, b, path)
        self.bounds(a, b, path)
        self.values(a, b, path)
        self.objects(a, b, path)
        if canonical_json(_bare(a.get("items", ANY))) != canonical_json(_bare(b.get("items", ANY))):
            self.schema(a.get("items", True), b.get("items", True), path + "[]")

    def types(self, a: dict[str, Any], b: dict[str, Any], path: str) -> None:
        old, new = _types(a), _types(b)
        if old == new:
            return
        tighter, looser = not _within(old, new), not _within(new, old)
        word = "narrowed" if not looser else "widened" if not tighter else "changed"
        self.add(
            path, f"type {word}: {_names(old)} -> {_names(new)}", tighter=tighter, looser=looser
        )

    def bounds(self, a: dict[str, Any], b: dict[str, Any], path: str) -> None:
        for key in (*LOWER, *UPPER):
            old, new = a.get(key), b.get(key)
            if old == new:
                continue
            lower = key in LOWER
            if old is None or new is None:
                tighter = new is not None
            else:
                tighter = new > old if lower else new < old
            text = f"{key} {_num(old)} -> {_num(new)}"
            self.add(path, text, tighter=tighter, looser=not tighter)
        old_m, new_m = a.get("multipleOf"), b.get("multipleOf")
        if old_m != new_m:
            tighter = new_m is not None and (old_m is None or old_m % new_m != 0)
            looser = old_m is not None and (new_m is None or new_m % old_m != 0)
            self.add(
                path, f"multipleOf {_num(old_m)} -> {_num(new_m)}", tighter=tighter, looser=looser
            )
        if a.get("uniqueItems", False) != b.get("uniqueItems", False):
            now = b.get("uniqueItems", False)
            self.add(
                path, f"uniqueItems {'added' if now else 'removed'}", tighter=now, looser=not now
            )
        if a.get("pattern") != b.get("pattern"):
            old_p, new_p = a.get("pattern"), b.get("pattern")
            text = f"pattern {_opt(old_p)} -> {_opt(new_p)}"
            self.add(path, text, tighter=new_p is not None, looser=old_p is not None)

    def values(self, a: dict[str, Any], b: dict[str, Any], path: str) -> None:
        for key in ("enum", "const"):
            if canonical_json(a.get(key)) == canonical_json(b.get(key)):
                continue
            old = None if key not in a else [a[key]] if key == "const" else a[key]
            new = None if key not in b else [b[key]] if key == "const" else b[key]
            old_set = None if old is None else {canonical_json(v) for v in old}
            new_set = None if new is None else {canonical_json(v) for v in new}
            # None: no constraint. Tighter: new refuses a value old took; looser: the reverse.
            tighter = new_set is not None and (old_set is None or bool(old_set - new_set))
            looser = old_set is not None and (new_set is None or bool(new_set - old_set))
            parts = []
            if old is not None and new is not None and old_set is not None and new_set is not None:
                gone = [v for v in old if canonical_json(v) not in new_set]
                came = [v for v in new if canonical_json(v) not in old_set]
                if gone:
                    parts.append("values removed: " + _list(gone))
                if came:
                    parts.append("values added: " + _list(came))
            else:
                parts.append("added" if old_set is None else "removed")
            self.add(path, f"{key} " + "; ".join(parts), tighter=tighter, looser=looser)

    def objects(self, a: dict[str, Any], b: dict[str, Any], path: str) -> None:
        old_req, new_req = set(a.get("required", [])), set(b.get("required", []))
        old_props, new_props = a.get("properties", {}), b.get("properties", {})
        what = "property" if self.reader else "variable"
        for name in sorted(new_req - old_req):
            state = "now required" if name in old_props else "new and required"
            self.add(_join(path, name), f"{what} {state}", tighter=True, looser=False)
        for name in sorted(old_req - new_req):
            self.add(_join(path, name), f"{what} no longer required", tighter=False, looser=True)
        for name in sorted(set(old_props) | set(new_props)):
            at = _join(path, name)
            if name in old_props and name in new_props:
                self.schema(old_props[name], new_props[name], at)
            elif name in new_props:  # a new property
                if self.reader:
                    self.undeclared(a, new_props[name], at, f"new {what}", old_side=True)
                elif name not in new_req:
                    self.changes.append(ContractChange(at, f"new optional {what}", False))
            elif self.reader:  # readers of the answer expect what it had
                self.changes.append(ContractChange(at, f"{what} removed", True))
            else:
                self.undeclared(
                    b, old_props[name], at, f"{what} no longer declared", old_side=False
                )
        old_ap, new_ap = a.get("additionalProperties", True), b.get("additionalProperties", True)
        if canonical_json(_bare(old_ap)) != canonical_json(_bare(new_ap)):
            if new_ap is False or old_ap is True:
                self.add(path, "additionalProperties closed", tighter=True, looser=False)
            elif old_ap is False or new_ap is True:
                self.add(path, "additionalProperties opened", tighter=False, looser=True)
            else:
                self.schema(old_ap, new_ap, path + "{*}")

    def undeclared(
        self, holder: dict[str, Any], schema: Any, at: str, what: str, *, old_side: bool
    ) -> None:
        """A property one side declares and the other only allows through
        ``additionalProperties`` (``holder``'s)."""
        extra = holder.get("additionalProperties", True)
        if extra is True:
            self.changes.append(ContractChange(at, what, False))
        elif extra is False:
            why = "which the old schema did not allow" if old_side else "and no longer allowed"
            self.changes.append(ContractChange(at, f"{what}, {why}", True))
        elif old_side:
            self.proven(at, what, extra, schema)
        else:
            self.proven(at, what, schema, extra)


def _join(path: str, name: str) -> str:
    return render_path(path, (name,))


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _names(types: set[str] | None) -> str:
    return "any" if types is None else "/".join(sorted(types))


def _num(value: Any) -> str:
    return "none" if value is None else number(value)


def _opt(value: str | None) -> str:
    return "none" if value is None else quote(value)


def _list(items: list[Any]) -> str:
    shown = ", ".join(
        scalar(v) if not isinstance(v, dict | list) else canonical_json(v) for v in items[:10]
    )
    return shown + (f" and {len(items) - 10} more" if len(items) > 10 else "")


# --- the whole contract ----------------------------------------------------------------------


def _tools(old: Contract, new: Contract) -> list[ContractChange]:
    out: list[ContractChange] = []
    before = {t["function"]["name"]: t["function"] for t in old.tools}
    after = {t["function"]["name"]: t["function"] for t in new.tools}
    for name in sorted(set(before) | set(after)):
        path = f"tools.{name}"
        if name not in after:
            out.append(ContractChange(path, "tool removed", True))
        elif name not in before:
            out.append(ContractChange(path, "new tool", False))
        else:
            a, b = before[name], after[name]
            if a.get("description") != b.get("description"):
                out.append(ContractChange(path, "description changed", False))
            was, now = a.get("strict", False), b.get("strict", False)
            if was != now:
                out.append(ContractChange(path, f"strict {_bool(was)} -> {_bool(now)}", True))
            pa, pb = a.get("parameters"), b.get("parameters")
            if canonical_json(_strip(pa)) != canonical_json(_strip(pb)):
                out.append(ContractChange(f"{path}.parameters", "parameters changed", True))
            elif canonical_json(pa) != canonical_json(pb):
                out.append(
                    ContractChange(f"{path}.parameters", "parameter descriptions changed", False)
                )
    return out


def _strip(schema: Any) -> Any:
    """A schema without annotations anywhere (descriptions change nothing a value must be)."""
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        k: (v if k in ("enum", "const") else _strip(v))
        for k, v in schema.items()
        if k not in ANNOTATIONS
    }


def _response(old: Contract, new: Contract) -> list[ContractChange]:
    a = old.response_format or {"type": "text"}
    b = new.response_format or {"type": "text"}
    if canonical_json(a) == canonical_json(b):
        return []
    path = "response_format"
    kinds = (a["type"], b["type"])
    if a["type"] != b["type"]:
        breaking = kinds not in (("json_object", "json_schema"),)
        return [ContractChange(path, f"type {a['type']} -> {b['type']}", breaking)]
    if a["type"] != "json_schema":
        return []
    sa, sb = a["json_schema"], b["json_schema"]
    out: list[ContractChange] = []
    if sa.get("name") != sb.get("name"):
        out.append(
            ContractChange(path, f"schema name {quote(sa['name'])} -> {quote(sb['name'])}", False)
        )
    if sa.get("description") != sb.get("description"):
        out.append(ContractChange(path, "description changed", False))
    if sa.get("strict", False) != sb.get("strict", False):
        now = sb.get("strict", False)
        out.append(ContractChange(path, f"strict {_bool(not now)} -> {_bool(now)}", not now))
    compare = _Compare(reader=True)
    compare.schema(inline(sa["schema"]), inline(sb["schema"]), path)
    return out + compare.changes


def diff_contracts(old: Contract, new: Contract) -> list[ContractChange]:
    """The changes from ``old`` to ``new``, each marked breaking or not. Give both with
    their variables inferred where they have none (``with_inferred``)."""
    changes: list[ContractChange] = []
    if old.variables_inferred != new.variables_inferred:
        text = (
            "variables now inferred from the template"
            if new.variables_inferred
            else "variables schema given (was inferred from the template)"
        )
        changes.append(ContractChange("variables", text, False))
    va = old.variables if old.variables is not None else {"type": "object"}
    vb = new.variables if new.variables is not None else {"type": "object"}
    compare = _Compare(reader=False)
    compare.schema(inline(va), inline(vb), "variables")
    return changes + compare.changes + _tools(old, new) + _response(old, new)
