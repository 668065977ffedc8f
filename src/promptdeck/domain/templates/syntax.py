"""Template syntax: kinds and formats, include references, chat messages, what a template
uses (variables, includes) and the check at version creation. The syntax itself is
described in ``promptdeck.domain.templates``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from promptdeck import limits
from promptdeck.domain import values
from promptdeck.errors import TemplateInvalid

Kind = Literal["text", "chat"]
TemplateFormat = Literal["plain", "jinja"]
KINDS: tuple[str, ...] = ("text", "chat")
FORMATS: tuple[str, ...] = ("plain", "jinja")
ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
PLACEHOLDER = "placeholder"

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PROMPT = r"[a-z0-9][a-z0-9._-]*"
TAG = re.compile(
    r"(?P<escape>\\)?\{\{\s*(?:>\s*(?P<include>" + _PROMPT + r")(?:@(?P<at>[^\s{}@]+))?"
    r"|(?P<var>" + _NAME + r"))\s*\}\}"
)
_INCLUDE_JINJA = re.compile(r"\{\{>\s*(?P<include>" + _PROMPT + r")(?:@(?P<at>[^\s{}@]+))?\s*\}\}")
NAME_RE = re.compile(r"^" + _NAME + r"$")


@dataclass(frozen=True, slots=True)
class IncludeRef:
    """``{{> prompt@at}}`` (and ``render``'s ``"version"``): ``at`` None means the active
    version (the ``active`` label); a version number is written as ids are, a canonical ASCII
    decimal within the id range (``values.parse_id``: ``03``, ``+3``, Arabic-Indic or
    fullwidth digits, or ``2147483648`` are not numbers); any other word is a label, else a
    version name."""

    prompt: str
    at: str | None = None

    @property
    def number(self) -> int | None:
        return None if self.at is None else values.parse_id(self.at)

    @property
    def label(self) -> str:
        return "active" if self.at is None else self.at

    def __str__(self) -> str:
        return self.prompt if self.at is None else f"{self.prompt}@{self.at}"


# --- chat messages ---------------------------------------------------------------------------


def check_messages(messages: Any) -> list[dict[str, str]]:
    """A chat version's messages, checked: ``{"role", "content"}`` with a known role, or
    ``{"role": "placeholder", "name": …}`` which the render fills with a list of messages."""
    if not isinstance(messages, list) or not messages:
        raise TemplateInvalid("a chat version needs a non-empty list of messages", field="messages")
    if len(messages) > limits.MESSAGES_MAX:
        raise TemplateInvalid(f"at most {limits.MESSAGES_MAX} messages", field="messages")
    out: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise TemplateInvalid(f"{where} is not an object", field="messages")
        role = m.get("role")
        if role == PLACEHOLDER:
            name = m.get("name")
            if set(m) != {"role", "name"} or not isinstance(name, str) or not NAME_RE.match(name):
                raise TemplateInvalid(
                    f'{where}: a placeholder is {{"role": "placeholder", "name": identifier}}',
                    field="messages",
                )
            out.append({"role": PLACEHOLDER, "name": name})
        elif role in ROLES:
            content = m.get("content")
            if set(m) != {"role", "content"} or not isinstance(content, str):
                raise TemplateInvalid(
                    f'{where}: a message is {{"role": …, "content": text}}', field="messages"
                )
            out.append({"role": str(role), "content": content})
        else:
            raise TemplateInvalid(
                f"{where}: role must be one of {', '.join((*ROLES, PLACEHOLDER))}",
                field="messages",
            )
    return out


def encode_messages(messages: list[dict[str, str]]) -> str:
    """How a chat version's messages are stored (its content): canonical JSON."""
    return json.dumps(messages, ensure_ascii=False, separators=(",", ":"))


def decode_messages(content: str) -> list[dict[str, str]]:
    decoded: list[dict[str, str]] = json.loads(content)
    return decoded


def hashed(kind: str, template_format: str, content: str) -> str:
    """What a version's content hash covers: the content alone for text in the plain format
    (hashes of earlier versions stay valid), the kind and format too otherwise."""
    if kind == "text" and template_format == "plain":
        return content
    return f"{kind}/{template_format}\x00{content}"


# --- reading a template ----------------------------------------------------------------------


def _texts(kind: str, content: str) -> list[str]:
    if kind == "chat":
        return [m["content"] for m in decode_messages(content) if m["role"] != PLACEHOLDER]
    return [content]


def variables(kind: str, template_format: str, content: str) -> list[str]:
    """Variable names in order of first use (placeholders included, for chat)."""
    names: dict[str, None] = {}
    if kind == "chat":
        for m in decode_messages(content):
            if m["role"] == PLACEHOLDER:
                names[m["name"]] = None
    for text in _texts(kind, content):
        if template_format == "jinja":
            for name in jinja_sandbox().variables(_INCLUDE_JINJA.sub("", text)):
                names.setdefault(name, None)
        else:
            for match in TAG.finditer(text):
                if match["var"] and not match["escape"]:
                    names.setdefault(match["var"], None)
    return list(names)


def includes(kind: str, content: str) -> list[IncludeRef]:
    """Include tags, in order, each once."""
    found: dict[IncludeRef, None] = {}
    for text in _texts(kind, content):
        for match in TAG.finditer(text):
            if match["include"] and not match["escape"]:
                found[IncludeRef(match["include"], match["at"])] = None
    return list(found)


def check(kind: str, template_format: str, content: str) -> None:
    """Refuse at version creation what could never render (raises TemplateInvalid)."""
    if kind not in KINDS:
        raise TemplateInvalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if template_format not in FORMATS:
        raise TemplateInvalid(
            f"template_format must be one of {', '.join(FORMATS)}", field="template_format"
        )
    if kind == "chat":
        try:
            check_messages(json.loads(content))
        except json.JSONDecodeError as exc:
            raise TemplateInvalid("a chat version's content is its messages as JSON") from exc
    if template_format == "jinja":
        jinja_sandbox().check([_INCLUDE_JINJA.sub("", text) for text in _texts(kind, content)])


def jinja_sandbox() -> Any:
    """The sandbox module, imported when a version uses Jinja (the light client may lack
    jinja2)."""
    try:
        from promptdeck.domain.templates import sandbox
    except ImportError as exc:
        raise TemplateInvalid(
            "this version uses Jinja sections: install jinja2 to render it here"
        ) from exc
    return sandbox
