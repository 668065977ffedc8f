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

Modules: ``syntax`` (kinds, include references, messages, what a template uses, the check
at creation), ``rendering`` (includes expanded, variables filled), ``budget`` (what one
render may spend). Jinja sections (``template_format="jinja"``): ``sandbox`` (the
environment and its compiled templates), ``filters`` and ``methods`` (what a template may
call), ``checks`` and ``sizes`` (the bounds each call is checked against first).
"""

from promptdeck.domain.templates.budget import Budget
from promptdeck.domain.templates.rendering import Rendered, Resolver, expand, render
from promptdeck.domain.templates.syntax import (
    FORMATS,
    KINDS,
    NAME_RE,
    PLACEHOLDER,
    ROLES,
    TAG,
    IncludeRef,
    Kind,
    TemplateFormat,
    check,
    check_messages,
    decode_messages,
    encode_messages,
    hashed,
    includes,
    variables,
)

__all__ = [
    "FORMATS",
    "KINDS",
    "NAME_RE",
    "PLACEHOLDER",
    "ROLES",
    "TAG",
    "Budget",
    "IncludeRef",
    "Kind",
    "Rendered",
    "Resolver",
    "TemplateFormat",
    "check",
    "check_messages",
    "decode_messages",
    "encode_messages",
    "expand",
    "hashed",
    "includes",
    "render",
    "variables",
]
