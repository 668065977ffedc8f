"""Jinja sections (opted into per version), rendered in a sandbox that allows a documented
list of filters, tests, globals, attributes and methods (filters.py, methods.py) and checks
each before it builds or walks anything (docs/api.md, "Templates: what Jinja may do").

Chosen over rendering in a worker process with hard limits (RLIMIT_AS, RLIMIT_CPU), by
measurement (docs/api.md): a fork per render costs 85-100 ms more than the render, a worker
that a limit kills must be replaced, and the client renders from its cache inside the
caller's own process, where neither is possible.

How the checks reach every step: Jinja compiles a template to Python; this environment
refuses, on the parsed tree, what is not allowed; inserts a step at the start of each loop
body, loop test, macro and call block; compiles ``~``, comparisons and slices to checked calls;
intercepts every binary operator, call, attribute and printed value; and joins
captured text (macros, ``{% set %}`` blocks) only after checking its length. Compiled
templates are cached by their text; each render's counters are its own (budget.py)."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from promptdeck import limits
from promptdeck.domain.templates.budget import Budget, active, current
from promptdeck.domain.templates.checks import compare, text
from promptdeck.domain.templates.filters import FILTERS, TESTS
from promptdeck.domain.templates.methods import (
    GLOBALS,
    STR_METHODS,
    is_safe_attribute,
    is_safe_call,
)
from promptdeck.domain.templates.methods import str_method as _str_method
from promptdeck.domain.templates.sizes import check_int_bits, int_bits, printf_size
from promptdeck.errors import PromptdeckError, RenderTooLarge, TemplateInvalid

REFUSED_TAGS: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from %}",
    nodes.Block: "{% block %}",
    nodes.EvalContextModifier: "{% autoescape %}",
}
REFUSED_NAMES = frozenset({"lipsum"})
# What Python raises for a template's mistakes (1 / 0, "a".split(""), "%y" % 1…): a 422.
PYTHON_ERRORS = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    LookupError,
    RuntimeError,
    TypeError,
    ValueError,
)
STEP = "bounded_step"  # environment methods the compiled code calls directly
_DIRECT = frozenset({STEP})


class _CodeGenerator(CodeGenerator):
    """Jinja's compiler, with ``~``, comparisons and slices compiled to checked calls, and the
    environment's own checks called directly (not through the sandbox's ``call``)."""

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        target = node.node
        if isinstance(target, nodes.EnvironmentAttribute) and target.name in _DIRECT:
            self.write(f"environment.{target.name}()")
            return
        super().visit_Call(node, frame, forward_caller=forward_caller)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):  # Jinja writes slices as Python's own
            super().visit_Getitem(node, frame)
            return
        self.write("environment.bounded_slice(")
        self.visit(node.node, frame)
        self.write(", slice(")
        for part in (node.arg.start, node.arg.stop, node.arg.step):
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
            self.write(", ")
        self.write("))")

    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        self.write("environment.bounded_compare(")
        self.visit(node.expr, frame)
        for operand in node.ops:
            self.write(f", {operand.op!r}, ")
            self.visit(operand.expr, frame)
        self.write(")")


def _step_call(lineno: int) -> nodes.Call:
    call = nodes.Call(nodes.EnvironmentAttribute(STEP), [], [], None, None)
    call.set_lineno(lineno)
    return call


def _insert_steps(tree: nodes.Template) -> None:
    """Each loop body and loop test, macro and call block starts with a step, so work that
    writes nothing (nested ranges, large list values, recursion) is counted too."""
    for loop in tree.find_all(nodes.For):
        loop.body.insert(0, nodes.ExprStmt(_step_call(loop.lineno), lineno=loop.lineno))
        if loop.test is not None:
            loop.test = nodes.And(_step_call(loop.lineno), loop.test, lineno=loop.lineno)
    blocks: list[nodes.Macro | nodes.CallBlock] = [
        *tree.find_all(nodes.Macro),
        *tree.find_all(nodes.CallBlock),
    ]
    for block in blocks:
        block.body.insert(0, nodes.ExprStmt(_step_call(block.lineno), lineno=block.lineno))


def _refuse(tree: nodes.Template) -> None:
    """What the sandbox does not allow, refused when the template is checked."""
    for node in tree.find_all(nodes.Node):
        for kind, tag in REFUSED_TAGS.items():
            if isinstance(node, kind):
                raise TemplateInvalid(f"{tag} is not available in templates")
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            raise TemplateInvalid(
                f"the filter {node.name!r} is not allowed in templates "
                f"(allowed: {', '.join(sorted(FILTERS))})"
            )
        if isinstance(node, nodes.Test) and node.name not in TESTS:
            raise TemplateInvalid(
                f"the test {node.name!r} is not allowed in templates "
                f"(allowed: {', '.join(sorted(TESTS))})"
            )
        if isinstance(node, (nodes.Call, nodes.Filter, nodes.Test)) and (
            node.dyn_args is not None or node.dyn_kwargs is not None
        ):
            raise TemplateInvalid("*args and **kwargs are not allowed in template calls")
        if isinstance(node, nodes.Name) and node.name in REFUSED_NAMES:
            raise TemplateInvalid(f"{node.name} is not available in templates")


def _binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operator whose result would be over a cap, before it runs."""
    budget = current()
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "+":
        if isinstance(left, str) and isinstance(right, str):
            budget.build(len(left) + len(right), "a concatenation")
        elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            budget.step(len(left) + len(right))
        elif ints:
            check_int_bits(max(int_bits(left), int_bits(right)) + 1)
    elif operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                count = len(seq) * max(n, 0)
                if isinstance(seq, str):
                    budget.build(count, "a repetition")
                else:
                    budget.step(count)
                return
        if ints:
            check_int_bits(int_bits(left) + int_bits(right))
    elif operator == "**":
        if ints and right > 0 and abs(left) > 1:
            check_int_bits(int_bits(left) * right)
    elif operator == "%" and isinstance(left, str):
        budget.build(printf_size(left, right), "a % format")


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self) -> None:
        super().__init__(autoescape=False, undefined=StrictUndefined, finalize=text)
        self.globals.clear()
        self.globals.update(GLOBALS)
        self.filters = dict(FILTERS)
        self.tests = dict(TESTS)

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        _insert_steps(source)
        return super()._generate(source, name, filename, defer_init)

    # --- what the compiled code calls ---------------------------------------------------------

    def bounded_step(self) -> bool:
        return current().step()

    def bounded_concat(self, values: tuple[Any, ...]) -> str:
        texts = [text(v) for v in values]
        current().build(sum(map(len, texts)), "a concatenation (~)")
        return "".join(texts)

    def bounded_compare(self, left: Any, *rest: Any) -> bool:
        for i in range(0, len(rest), 2):
            op, right = rest[i], rest[i + 1]
            if not compare(op, left, right):
                return False
            left = right
        return True

    def concat(self, parts: Iterable[str]) -> str:
        """What a macro, a call block or a ``{% set %}`` block wrote, joined."""
        listed = parts if isinstance(parts, list) else list(parts)
        current().build(sum(map(len, listed)), "the text of a macro or a {% set %} block")
        return "".join(listed)

    # --- the sandbox's hooks ------------------------------------------------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def bounded_slice(self, obj: Any, part: slice) -> Any:
        if isinstance(obj, (str, list, tuple)):
            n = len(range(len(obj))[part])
            if isinstance(obj, str):
                current().build(n, "a slice")
            else:
                current().step(n)
        return obj[part]

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return is_safe_attribute(obj, attr)

    def wrap_str_format(self, value: Any) -> Any:
        """A str method the template may call, checked each time (Jinja's hook for
        ``str.format``, used here for every allowed str method)."""
        owner = getattr(value, "__self__", None)
        name = getattr(value, "__name__", "")
        if isinstance(owner, str) and name in STR_METHODS and callable(value):
            return _str_method(self, owner, name)
        return None

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_safe_call(__obj, args):
            name = getattr(__obj, "__name__", type(__obj).__name__)
            raise SecurityError(f"{name} cannot be called in templates")
        return __context.call(__obj, *args, **kwargs)


@functools.cache
def environment() -> BoundedEnvironment:
    return BoundedEnvironment()


@dataclass(frozen=True, slots=True)
class Compiled:
    template: Any  # jinja2.Template
    variables: tuple[str, ...]


_CACHE: OrderedDict[str, Compiled] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHED_TEMPLATES = 64
CACHED_TEXT_MAX = 100_000  # characters: larger templates are compiled each time


def _count_tokens(env: BoundedEnvironment, text_: str, before: int = 0) -> int:
    """Parsing and compiling cost 30-50 µs a token (0.3 s and 20 MiB at the cap, 1-2 s
    and 60-80 MiB at four times it): counted first, refused past the cap."""
    n = before
    if "{" not in text_:
        return n + 1
    for _, kind, _ in env.lex(text_):
        if kind != "whitespace":
            n += 1
            if n > limits.JINJA_TOKENS_MAX:
                raise TemplateInvalid(
                    f"a Jinja template may hold at most {limits.JINJA_TOKENS_MAX} tokens, all "
                    "its messages together (names, operators, values, tags and runs of text)"
                )
    return n


def _compile(text_: str) -> Compiled:
    env = environment()
    try:
        _count_tokens(env, text_)
        tree = env.parse(text_)
        _refuse(tree)
        names = tuple(sorted(meta.find_undeclared_variables(tree)))
        return Compiled(env.from_string(tree), names)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(f"Jinja syntax error, line {exc.lineno}: {exc.message}") from exc
    except RecursionError as exc:
        raise TemplateInvalid("Jinja: expressions nested too deep") from exc
    except (TemplateError, *PYTHON_ERRORS) as exc:  # Jinja folding a constant expression
        raise TemplateInvalid(f"Jinja error: {_short(exc)}") from exc


def compiled(text_: str) -> Compiled:
    """The template compiled (refused if it is not allowed), from the cache when it can."""
    with _CACHE_LOCK:
        found = _CACHE.get(text_)
        if found is not None:
            _CACHE.move_to_end(text_)
            return found
    made = _compile(text_)
    if len(text_) <= CACHED_TEXT_MAX:
        with _CACHE_LOCK:
            _CACHE[text_] = made
            while len(_CACHE) > CACHED_TEMPLATES:
                _CACHE.popitem(last=False)
    return made


def _short(exc: BaseException) -> str:
    said = str(exc)
    return said if len(said) <= 200 else said[:200] + "…"


def fill(text_: str, values: Mapping[str, Any], budget: Budget) -> str:
    """Render a Jinja template with ``values``, within ``budget``."""
    template = compiled(text_).template
    parts: list[str] = []
    with active(budget):
        try:
            # The render function itself, not generate(): Jinja's error path rewrites the
            # traceback by compiling code for each template frame.
            context = template.new_context(dict(values))
            for chunk in template.root_render_func(context):
                budget.spend(len(chunk))
                parts.append(chunk)
        except PromptdeckError:
            raise
        except SecurityError as exc:
            raise TemplateInvalid(f"refused by the Jinja sandbox: {_short(exc)}") from exc
        except (OverflowError, MemoryError) as exc:
            raise RenderTooLarge(f"Jinja: {_short(exc)}") from exc
        except RecursionError as exc:
            raise TemplateInvalid("Jinja error: nested too deep (macros, loops or values)") from exc
        except TemplateError as exc:
            raise TemplateInvalid(f"Jinja error: {_short(exc)}") from exc
        except PYTHON_ERRORS as exc:
            raise TemplateInvalid(f"Jinja error: {type(exc).__name__}: {_short(exc)}") from exc
    return "".join(parts)


def variables(text_: str) -> list[str]:
    return list(compiled(text_).variables)


def check(texts: list[str]) -> None:
    """A version's texts (one, or a chat's messages): the tokens of all of them within the
    cap, then each compiled, so nothing it could render is refused later."""
    try:
        total = 0
        for text_ in texts:
            total = _count_tokens(environment(), text_, total)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(f"Jinja syntax error, line {exc.lineno}: {exc.message}") from exc
    for text_ in texts:
        compiled(text_)
