"""Rendering: includes expanded, variables filled, within one render's budget (plain
templates here; Jinja sections in sandbox.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from promptdeck import limits
from promptdeck.domain.templates.budget import Budget
from promptdeck.domain.templates.syntax import (
    PLACEHOLDER,
    TAG,
    IncludeRef,
    decode_messages,
    jinja_sandbox,
    variables,
)
from promptdeck.errors import MissingVariables, TemplateInvalid

# Expands ``{{> ref}}``: given the reference and the depth, the included text (a text
# version's content, its own includes still in it).
Resolver = Callable[[IncludeRef], str]


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a render gives: ``text`` for a text version, ``messages`` for a chat one; the
    variables given but not used."""

    kind: str
    text: str | None
    messages: list[dict[str, Any]] | None
    unused: list[str]

    def value(self) -> str | list[dict[str, Any]]:
        """The shape an LLM SDK takes: a string, or a list of messages."""
        return self.messages if self.messages is not None else (self.text or "")


def _value_text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float, list, dict)):
        return json.dumps(value, ensure_ascii=False)
    raise TemplateInvalid(f"variable {name!r}: a string, number, boolean or JSON value")


def expand(text: str, resolve: Resolver | None, budget: Budget, path: tuple[str, ...]) -> str:
    """The template with its includes replaced by their (expanded) text; escapes kept."""
    if resolve is None or "{{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        if not match["include"] or match["escape"]:
            return match[0]
        ref = IncludeRef(match["include"], match["at"])
        if ref.prompt in path:
            raise TemplateInvalid(f"include cycle: {' -> '.join((*path, ref.prompt))}")
        if len(path) > limits.INCLUDE_DEPTH_MAX:
            raise TemplateInvalid(f"includes nested deeper than {limits.INCLUDE_DEPTH_MAX}")
        budget.includes += 1
        if budget.includes > limits.INCLUDES_MAX:
            raise TemplateInvalid(f"more than {limits.INCLUDES_MAX} includes in one render")
        included = resolve(ref)
        budget.spend(len(included))
        return expand(included, resolve, budget, (*path, ref.prompt))

    return TAG.sub(one, text)


def _fill_plain(text: str, values: Mapping[str, Any], budget: Budget) -> str:
    def one(match: re.Match[str]) -> str:
        if match["escape"]:
            return match[0][1:]
        if match["include"]:  # only when rendered without a resolver (the client, offline)
            raise TemplateInvalid(f"{{{{> {match['include']}}}}} needs the server to render")
        out = _value_text(match["var"], values[match["var"]])
        budget.spend(len(out))
        return out

    budget.spend(len(text))
    return TAG.sub(one, text)


def render(
    kind: str,
    template_format: str,
    content: str,
    values: Mapping[str, Any],
    *,
    resolve: Resolver | None = None,
    path: tuple[str, ...] = (),
) -> Rendered:
    """Fill a version's template. Missing variables: MissingVariables naming them all."""
    budget = Budget()
    names = variables(kind, template_format, content)
    missing = [n for n in names if n not in values]
    # Included texts may use variables too: expand first, then list what is missing.
    if kind == "chat":
        template_messages = decode_messages(content)
        texts = [
            expand(m["content"], resolve, budget, path) if m["role"] != PLACEHOLDER else ""
            for m in template_messages
        ]
    else:
        template_messages = []
        texts = [expand(content, resolve, budget, path)]
    if resolve is not None:
        for text in texts:
            for name in variables("text", template_format, text):
                if name not in names:
                    names.append(name)
        missing = [n for n in names if n not in values]
    if missing:
        raise MissingVariables(f"missing variables: {', '.join(missing)}", field="variables")
    fill = _fill_jinja if template_format == "jinja" else _fill_plain
    unused = sorted(_unicode(name, "a variable's name") for name in set(values) - set(names))
    if kind != "chat":
        return Rendered("text", _unicode(fill(texts[0], values, budget)), None, unused)
    messages: list[dict[str, Any]] = []
    for m, text in zip(template_messages, texts, strict=True):
        if m["role"] == PLACEHOLDER:
            messages.extend(_placeholder(m["name"], values[m["name"]], budget))
        else:
            content = _unicode(fill(text, values, budget))
            messages.append({"role": m["role"], "content": content})
    return Rendered("chat", None, messages, unused)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode(text: str, what: str = "the rendered text") -> str:
    """What a render gives is sent as UTF-8, which has no lone surrogates (a value may hold
    one, and a Jinja escape like "\\ud800" writes one): refused here, not on the way out."""
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found:
            raise TemplateInvalid(
                f"{what} contains U+{ord(found[0]):04X}, a lone surrogate (not Unicode)",
                field="variables",
            )
    return text


def _placeholder(name: str, given: Any, budget: Budget) -> list[dict[str, Any]]:
    """A placeholder's messages, inserted as given (never rendered)."""
    if not isinstance(given, Sequence) or isinstance(given, (str, bytes)):
        raise TemplateInvalid(f"placeholder {name!r} takes a list of messages", field="variables")
    out: list[dict[str, Any]] = []
    for m in given:
        if not isinstance(m, Mapping) or not isinstance(m.get("role"), str):
            raise TemplateInvalid(
                f'placeholder {name!r}: each message is an object with a "role"',
                field="variables",
            )
        budget.spend(len(_unicode(json.dumps(dict(m), ensure_ascii=False, default=str))))
        out.append(dict(m))
    return out


def _fill_jinja(text: str, values: Mapping[str, Any], budget: Budget) -> str:
    return str(jinja_sandbox().fill(text, values, budget))
