"""Rendering a version on the server: which version (a version id, a label or version name,
or the active one), its includes resolved now, its variables filled (domain/templates.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptdeck.core import includes, load
from promptdeck.core.tx import Tx
from promptdeck.domain import templates
from promptdeck.domain.commands import RenderPrompt
from promptdeck.domain.contracts import Contract, check_variables
from promptdeck.domain.models import Version
from promptdeck.domain.templates import IncludeRef, Rendered
from promptdeck.errors import TemplateInvalid, VersionUnavailable


@dataclass(frozen=True, slots=True)
class RenderResult:
    prompt_name: str
    version: Version
    rendered: Rendered


def render(tx: Tx, cmd: RenderPrompt) -> RenderResult:
    """``version_id``, else ``at`` (a number, label or version name, as after ``@`` in an
    include), else the active version."""
    row = load.prompt_row(tx, cmd.prompt)
    version_id = cmd.version_id
    if version_id is None:
        version_id, _ = includes.resolve(tx, row, IncludeRef(row.name, cmd.at))
    version = load.version(tx, row.id, version_id)
    return RenderResult(row.name, version, render_version(tx, row.name, version, cmd.values))


def render_version(tx: Tx, prompt_name: str, version: Version, values: dict[str, Any]) -> Rendered:
    """A version already read, filled with ``values`` (its contract's checks first)."""
    content = _content(version, prompt_name)
    return render_template(
        tx, prompt_name, version.kind, version.template_format, content, version.contract, values
    )


def render_template(
    tx: Tx,
    prompt_name: str,
    kind: str,
    template_format: str,
    content: str,
    contract: Contract | None,
    values: dict[str, Any],
) -> Rendered:
    """A template of the prompt (a version's, or a playground's draft) filled with
    ``values``, its includes resolved now."""
    # Before the template runs: refused variables name every failing path (a given variables
    # schema only; an inferred one checks nothing more than the template does).
    check_variables(contract, values)

    def resolve(include: IncludeRef) -> str:
        target = includes.target_row(tx, include)
        included = load.version(tx, target.id, includes.resolve(tx, target, include)[0])
        if included.kind != "text":
            raise TemplateInvalid(f"{{{{> {include}}}}}: only text prompts can be included")
        return _content(included, target.name)

    return templates.render(
        kind, template_format, content, values, resolve=resolve, path=(prompt_name,)
    )


def _content(version: Version, prompt_name: str) -> str:
    if version.content is None:
        raise VersionUnavailable(
            f"{prompt_name} version {version.number} was purged: nothing to render"
        )
    return version.content
