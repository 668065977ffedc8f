"""docs/evaluations.md's worked example runs as written, against the stand-in server."""

from __future__ import annotations

import contextlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.fake_llm import FakeLLM

pytestmark = pytest.mark.sqlite_only  # no database here: one pass is enough

DOC = Path(__file__).parents[2] / "docs" / "evaluations.md"


def test_the_worked_example_runs_and_prints_what_the_docs_say() -> None:
    section = DOC.read_text().split("### The provider client alone")[1]
    code = re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]
    with FakeLLM() as llm:
        port = llm.port
        code = code.replace("127.0.0.1:11434", f"127.0.0.1:{port}")
        out = io.StringIO()

        def run() -> None:
            with contextlib.redirect_stdout(out):
                exec(compile(code, str(DOC), "exec"), {"__name__": "docs"})

        with ThreadPoolExecutor(max_workers=1) as pool:  # asyncio.run in a thread of its own
            pool.submit(run).result()
        (request,) = llm.received()
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("The order came late. Offer a refund. Usage(")
    assert printed[1].startswith("contains Result(passed=True, score=1.0")
    assert printed[2].startswith("length Result(passed=True")
    assert request.body["temperature"] == 0
