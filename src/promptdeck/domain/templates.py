"""Templates: text and chat content, variables, includes, rendering. Pure: no I/O, no server
package (the light client imports this module to render from its cache; Jinja2 is imported
only when a version opts into ``template_format="jinja"``).

Syntax (``template_format="plain"``, the default), documented in docs/api.md:

- ``{{name}}`` (spaces allowed inside the braces): a variable; ``name`` is a Python-like
  identifier.
- ``{{> other}}``, ``{{> other@3}}``, ``{{> other@tone-v2}}``, ``{{> other@active}}``: include
  another prompt's active version, its version number 3, or what a label / version name
  resolves to (see ``IncludeRef``).
- ``\\{{``: a literal ``{{`` (the backslash goes). Any other ``{{`` that is not a tag is kept
  as written, so JSON or another library's template passes through untouched.

Rendering is one pass over the template: a value is inserted as is, never rendered again,
never HTML-escaped.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from promptdeck import limits
from promptdeck.errors import MissingVariables, RenderTooLarge, TemplateInvalid

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
    """``{{> prompt@at}}``: ``at`` None means the active version (the ``active`` label);
    all digits is a version number; any other word is a label, else a version name."""

    prompt: str
    at: str | None = None

    @property
    def number(self) -> int | None:
        return int(self.at) if self.at is not None and self.at.isdigit() else None

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
            for name in _jinja_variables(_INCLUDE_JINJA.sub("", text)):
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
        for text in _texts(kind, content):
            _jinja_template(_INCLUDE_JINJA.sub("", text))


# --- rendering -------------------------------------------------------------------------------

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


class _Budget:
    def __init__(self) -> None:
        self.size = 0
        self.includes = 0
        self.steps = 0
        self.cpu_start: float | None = None

    def spend(self, n: int) -> None:
        self.size += n
        if self.size > limits.RENDER_MAX:
            raise RenderTooLarge(f"the rendered output is over {limits.RENDER_MAX} characters")

    def step(self, n: int = 1) -> bool:
        """Count Jinja work that may write nothing (a loop iteration, a loop's ``if`` test, a
        macro call, ``range()`` items): over RENDER_STEPS_MAX, or past RENDER_CPU_S of this
        thread's CPU since the first step (checked every 1024 steps), the render stops."""
        if self.cpu_start is None:
            self.cpu_start = time.thread_time()
        before = self.steps
        self.steps += n
        if self.steps > limits.RENDER_STEPS_MAX:
            raise RenderTooLarge(
                f"the template runs more than {limits.RENDER_STEPS_MAX} loop iterations, "
                "loop tests, macro calls or range() items in one render"
            )
        if self.steps >> 10 != before >> 10 and (
            time.thread_time() - self.cpu_start > limits.RENDER_CPU_S
        ):
            raise RenderTooLarge(
                f"the template took more than {limits.RENDER_CPU_S} s of CPU to render"
            )
        return True


def expand(text: str, resolve: Resolver | None, budget: _Budget, path: tuple[str, ...]) -> str:
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


def _fill_plain(text: str, values: Mapping[str, Any], budget: _Budget) -> str:
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
    budget = _Budget()
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
    unused = sorted(set(values) - set(names))
    if kind != "chat":
        return Rendered("text", fill(texts[0], values, budget), None, unused)
    messages: list[dict[str, Any]] = []
    for m, text in zip(template_messages, texts, strict=True):
        if m["role"] == PLACEHOLDER:
            messages.extend(_placeholder(m["name"], values[m["name"]], budget))
        else:
            messages.append({"role": m["role"], "content": fill(text, values, budget)})
    return Rendered("chat", None, messages, unused)


def _placeholder(name: str, given: Any, budget: _Budget) -> list[dict[str, Any]]:
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
        budget.spend(len(json.dumps(dict(m), ensure_ascii=False, default=str)))
        out.append(dict(m))
    return out


# --- Jinja (opt-in, sandboxed) ---------------------------------------------------------------


STEP = "_promptdeck_step"  # the global each loop body, loop test and macro body calls


@functools.cache
def _environment_class() -> Any:
    """ImmutableSandboxedEnvironment whose templates count their work (``_Budget.step``):
    after parsing, each ``{% for %}`` body and ``{% macro %}`` / ``{% call %}`` body starts
    with a call of the step global, and a loop's ``if`` test calls it first, so a loop that
    writes nothing (nested ranges, large list values) is bounded like one that writes."""
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def step_call(lineno: int) -> Any:
        call = nodes.Call(nodes.Name(STEP, "load"), [], [], None, None)
        return call.set_lineno(lineno)

    class CountingEnvironment(ImmutableSandboxedEnvironment):
        # `"a" * 10**9` or `9 ** 10**9` would take gigabytes or minutes without a loop.
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def _parse(self, source: str, name: str | None, filename: str | None) -> Any:
            tree = super()._parse(source, name, filename)
            for loop in tree.find_all(nodes.For):
                loop.body.insert(0, nodes.ExprStmt(step_call(loop.lineno), lineno=loop.lineno))
                if loop.test is not None:
                    loop.test = nodes.And(step_call(loop.lineno), loop.test, lineno=loop.lineno)
            blocks: list[nodes.Macro | nodes.CallBlock] = [
                *tree.find_all(nodes.Macro),
                *tree.find_all(nodes.CallBlock),
            ]
            for block in blocks:
                block.body.insert(0, nodes.ExprStmt(step_call(block.lineno), lineno=block.lineno))
            tree.set_environment(self)
            return tree

    return CountingEnvironment


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse a ``*`` or ``**`` whose result would be over the output cap."""
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            if (
                isinstance(seq, (str, list, tuple))
                and isinstance(n, int)
                and len(seq) * max(n, 0) > limits.RENDER_MAX
            ):
                raise RenderTooLarge(
                    f"a repetition would be over {limits.RENDER_MAX} items or characters"
                )
    elif (
        isinstance(left, int)
        and isinstance(right, int)
        and right > 0
        and max(left.bit_length(), 1) * right > limits.RENDER_MAX  # bits: ~3.3 a digit
    ):
        raise RenderTooLarge(f"a power would have more than {limits.RENDER_MAX} bits")


def _jinja_env(budget: _Budget | None = None) -> Any:
    try:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import safe_range
    except ImportError as exc:  # the light client without jinja2
        raise TemplateInvalid(
            "this version uses Jinja sections: install jinja2 to render it here"
        ) from exc
    env = _environment_class()(autoescape=False, undefined=StrictUndefined)
    counter = budget or _Budget()

    def counted_range(*args: int) -> range:
        out: range = safe_range(*args)  # the sandbox's own cap on one range
        counter.step(len(out))
        return out

    env.globals[STEP] = counter.step
    env.globals["range"] = counted_range
    return env


def _jinja_template(text: str, budget: _Budget | None = None) -> Any:
    from jinja2 import TemplateSyntaxError

    env = _jinja_env(budget)
    try:
        return env.from_string(text)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(f"Jinja syntax error, line {exc.lineno}: {exc.message}") from exc


def _jinja_variables(text: str) -> list[str]:
    from jinja2 import TemplateSyntaxError, meta

    env = _jinja_env()
    try:
        return sorted(meta.find_undeclared_variables(env.parse(text)) - {STEP})
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(f"Jinja syntax error, line {exc.lineno}: {exc.message}") from exc


def _fill_jinja(text: str, values: Mapping[str, Any], budget: _Budget) -> str:
    from jinja2 import TemplateError
    from jinja2.exceptions import SecurityError

    template = _jinja_template(text, budget)
    parts: list[str] = []
    try:
        # Streamed, so a loop that would write gigabytes stops at the cap.
        for chunk in template.generate(**values):
            budget.spend(len(chunk))
            parts.append(chunk)
    except SecurityError as exc:
        raise TemplateInvalid(f"refused by the Jinja sandbox: {exc}") from exc
    except OverflowError as exc:  # the sandbox's range() cap, or a float out of range
        raise RenderTooLarge(f"Jinja: {exc}") from exc
    except RecursionError as exc:  # a macro calling itself: bounded by the stack, refused
        raise TemplateInvalid("Jinja error: macros nested too deep") from exc
    except TemplateError as exc:
        raise TemplateInvalid(f"Jinja error: {exc}") from exc
    return "".join(parts)
