"""Every form of the UI that posts carries the signed-in person's CSRF token: the server
refuses a signed-in person's POST without it (server/ui/view.py ``forged``), so a form
without the field is a page that works on an open server and fails for every person who
signed in (the chat editor and a version's preview did)."""

from __future__ import annotations

import re
from pathlib import Path

import promptdeck.server.ui as ui

TEMPLATES = Path(ui.__file__).parent / "templates"
FORM = re.compile(r"<form\b[^>]*>(.*?)</form>", re.S | re.I)
POSTS = re.compile(r"""method=["']post["']""", re.I)
TOKEN = re.compile(r"""<input type="hidden" name="csrf" value="\{\{ csrf \}\}">""")


def test_every_form_that_posts_carries_the_csrf_token() -> None:
    missing: list[str] = []
    counted = 0
    for template in sorted(TEMPLATES.glob("*.html")):
        html = template.read_text()
        for found in FORM.finditer(html):
            opening = found.group(0)[: found.group(0).index(">") + 1]
            if not POSTS.search(opening):
                continue
            counted += 1
            if not TOKEN.search(found.group(1)):
                line = html[: found.start()].count("\n") + 1
                missing.append(f"{template.name}:{line} {opening[:90]}")
    assert counted >= 25, "the templates' forms were found"
    assert missing == []
