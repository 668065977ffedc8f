"""Prompts as files (docs/prompts-as-code.md): one file per prompt, byte-exact both ways.

A text prompt is Markdown: a YAML header between two ``---`` lines, then the content,
exactly (every byte after the closing ``---`` line is the prompt: trailing newlines, CRLF,
tabs, a ``---`` of its own). A chat prompt is YAML with its ``messages``. Pure: no I/O.

The writer checks its own output: the header (or the whole chat file) must read back to
the same values, type for type (``yes`` stays a string, ``1.0`` a float); multi-line
strings are written as literal blocks (``|``) where that reads back exactly, else the file
is written again with every such string double-quoted on one line.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from promptdeck.errors import InvalidInput

Kind = Literal["text", "chat"]
TEXT_SUFFIX = ".md"
CHAT_SUFFIXES = (".yaml", ".yml")
FENCE = "---"
# The header's keys, in the order the writer puts them; anything else is a typo, refused.
KEYS = (
    "name",
    "description",
    "tags",
    "template_format",
    "model_config",
    "contract",
    "version_description",
    "labels",
)
CHAT_KEYS = (*KEYS, "messages")
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class PromptFile:
    """What one file says. ``content`` for text, ``messages`` for chat; ``contract`` None:
    the file has none (issue 23's contract is passed through as the server gives it)."""

    name: str
    kind: Kind = "text"
    content: str = ""
    messages: list[dict[str, Any]] | None = None
    description: str = ""
    tags: list[str] = field(default_factory=list)
    model_config: dict[str, Any] = field(default_factory=dict)
    template_format: str = "plain"
    contract: dict[str, Any] | None = None
    version_description: str = ""
    labels: list[str] = field(default_factory=list)

    @property
    def suffix(self) -> str:
        return TEXT_SUFFIX if self.kind == "text" else CHAT_SUFFIXES[0]

    def snapshot(self) -> str:
        """What a version holds of this file (kind, content or messages, format, config,
        contract), as one canonical text: two equal snapshots make no new version."""
        return snapshot(
            self.kind,
            self.content if self.kind == "text" else self.messages,
            self.template_format,
            self.model_config,
            self.contract,
        )

    def meta(self) -> str:
        """The prompt's metadata this file sets (not versioned): description and tags."""
        return meta_digest(self.description, self.tags)


def snapshot(
    kind: str,
    body: str | list[dict[str, Any]] | None,
    template_format: str,
    model_config: dict[str, Any] | None,
    contract: dict[str, Any] | None,
) -> str:
    # sort_keys: PostgreSQL's jsonb answers keys in its own order; json.dumps tells 1 from
    # 1.0 and True from 1, which == does not.
    value = [kind, body, template_format, model_config or {}, contract]
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def meta_digest(description: str, tags: list[str]) -> str:
    text = json.dumps([description, list(tags)], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- writing -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    literal = True


# YAML reads these as line breaks; PyYAML writes them raw in a single-quoted scalar, where
# they are then folded into spaces: only its double-quoted style escapes them.
_BREAKS = frozenset("\r\x85\u2028\u2029")


def _str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if not _BREAKS.isdisjoint(value):
        style = '"'
    elif "\n" in value:
        style = "|" if dumper.literal else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _yaml(value: dict[str, Any], literal: bool) -> str:
    _Dumper.literal = literal
    try:
        return yaml.dump(
            value,
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            width=2**31 - 1,  # never fold a line: no continuation line can read as a fence
            default_flow_style=False,
        )
    finally:
        _Dumper.literal = True


def _exact(value: Any) -> str:
    return json.dumps(value, sort_keys=False, ensure_ascii=False)


def _dump_checked(value: dict[str, Any]) -> str:
    for literal in (True, False):
        text = _yaml(value, literal)
        if _exact(yaml.safe_load(text)) == _exact(value):
            return text
    raise InvalidInput(  # pragma: no cover (the tests generate values and never reach it)
        f"{value.get('name')!r} cannot be written as YAML that reads back the same"
    )


def _header(f: PromptFile) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f.name,
        "description": f.description,
        "tags": list(f.tags),
        "template_format": f.template_format,
        "model_config": f.model_config,
    }
    if f.contract is not None:
        out["contract"] = f.contract
    out["version_description"] = f.version_description
    out["labels"] = list(f.labels)
    if f.kind == "chat":
        out["messages"] = f.messages or []
    return out


def dump(f: PromptFile) -> bytes:
    """The file's bytes: Markdown with a YAML header for text, YAML for chat."""
    header = _dump_checked(_header(f))
    if f.kind == "chat":
        return header.encode()
    assert all(x.rstrip("\r") != FENCE for x in header.split("\n"))  # see _yaml's width
    return f"{FENCE}\n{header}{FENCE}\n{f.content}".encode()


# --- reading -----------------------------------------------------------------------------------


def _bad(path: str, detail: str, key: str | None = None) -> InvalidInput:
    where = f"{path}: {key}" if key else path
    return InvalidInput(f"{where}: {detail}", field=where)


def _split(data: str, path: str) -> tuple[str, str]:
    """(header, body) of a Markdown prompt file: the body is everything after the first
    line (after the opening one) that is exactly ``---``. Lines end at ``\n`` only (a
    ``\r`` before it is allowed on the fences): never at U+2028 or the like."""
    first = data.find("\n")
    if first < 0 or data[:first].rstrip("\r") != FENCE:
        raise _bad(path, "a prompt file starts with a line '---' (its YAML header)")
    start = at = first + 1
    while at <= len(data):
        end = data.find("\n", at)
        line = data[at:] if end < 0 else data[at:end]
        if line.rstrip("\r") == FENCE:
            return data[start:at], "" if end < 0 else data[end + 1 :]
        if end < 0:
            break
        at = end + 1
    raise _bad(path, "the YAML header has no closing line '---'")


def _text(value: Any, path: str, key: str) -> str:
    if not isinstance(value, str):
        raise _bad(path, f'must be text (quote it: {key}: "...")', key)
    return value


def _texts(value: Any, path: str, key: str, slug: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(path, "must be a list of text", key)
    for v in value:
        if slug and not _SLUG.fullmatch(v):
            raise _bad(path, f"{v!r} is not a slug ([a-z0-9][a-z0-9._-]*)", key)
    return list(value)


def _mapping(value: Any, path: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise _bad(path, "must be a mapping with text keys", key)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"must hold JSON values only ({exc})", key) from exc
    return value


def is_prompt_file(name: str) -> bool:
    return name.endswith((TEXT_SUFFIX, *CHAT_SUFFIXES))


def load(data: bytes, path: str) -> PromptFile:
    """The prompt a file says (``path`` names it in errors and decides its kind)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(path, f"is not UTF-8 (byte {exc.start})") from exc
    markdown = path.endswith(TEXT_SUFFIX)
    header, body = _split(text, path) if markdown else (text, "")
    try:
        found = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        raise _bad(path, f"its YAML does not parse: {exc}") from exc
    if not isinstance(found, dict):
        raise _bad(path, "its YAML is a mapping of the header's keys (name, description…)")
    allowed = KEYS if markdown else CHAT_KEYS
    for key in found:
        if key not in allowed:
            raise _bad(path, f"unknown key (allowed: {', '.join(allowed)})", str(key))
    if "name" not in found:
        raise _bad(path, "missing: the prompt's name", "name")
    name = _text(found["name"], path, "name")
    if not _SLUG.fullmatch(name):
        raise _bad(path, f"{name!r} is not a prompt name ([a-z0-9][a-z0-9._-]*)", "name")
    template_format = _text(found.get("template_format", "plain"), path, "template_format")
    if template_format not in ("plain", "jinja"):
        raise _bad(path, "is plain or jinja", "template_format")
    contract = found.get("contract")
    messages: list[dict[str, Any]] | None = None
    if not markdown:
        if "messages" not in found:
            raise _bad(path, "a chat prompt file lists its messages", "messages")
        raw = found["messages"]
        if not isinstance(raw, list):
            raise _bad(path, "must be a list of messages", "messages")
        messages = [_mapping(m, path, f"messages[{i}]") for i, m in enumerate(raw)]
    return PromptFile(
        name=name,
        kind="text" if markdown else "chat",
        content=body,
        messages=messages,
        description=_text(found.get("description", ""), path, "description"),
        tags=_texts(found.get("tags", []), path, "tags"),
        model_config=_mapping(found.get("model_config", {}), path, "model_config"),
        template_format=template_format,
        contract=None if contract is None else _mapping(contract, path, "contract"),
        version_description=_text(
            found.get("version_description", ""), path, "version_description"
        ),
        labels=_texts(found.get("labels", []), path, "labels", slug=True),
    )
