"""Hostile requests generated beyond the OpenAPI schema never get a 5xx, a refused request
writes nothing, and afterwards the list, the export and every prompt still read."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from promptdeck.store.engine import create_engine
from tests.hostile.requests import NAMES, Request, api_request, import_file, ui_form
from tests.hostile.sweep import fingerprint, health_sweep
from tests.support.load import figure, scale
from tests.support.server import ServerProcess

BATCH = 50  # requests per generated example
EXAMPLES = scale("hostile_examples", 110)  # x BATCH: at least 5,000 requests a run


def _seed(client: httpx.Client) -> dict[str, object]:
    """A few prompts with history for the requests to hit; an exported record to mangle."""
    for name in NAMES:
        client.post("/prompts", json={"name": name, "content": "Hi {{who}}", "tags": ["t"]})
        client.post(f"/prompts/{name}/versions", json={"content": "v2", "version_name": "v2"})
    record: dict[str, object] = client.get(f"/prompts/{NAMES[0]}/export").json()
    return record


def _header_bytes(value: str) -> bytes:
    """The value as UTF-8 bytes, less what HTTP/1.1 itself forbids in a field value."""
    raw = value.encode("utf-8", "surrogatepass")
    return bytes(b for b in raw if b == 9 or 32 <= b != 127).strip()


def _send(client: httpx.Client, request: Request) -> httpx.Response:
    return client.request(
        request.method,
        request.path,
        params=request.params,
        headers={k: _header_bytes(v) for k, v in request.headers.items()},
        content=request.content,
    )


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@pytest.mark.timeout(1200)  # about 30 s alone, minutes on a loaded machine
def test_generated_hostile_requests_get_no_5xx_and_refused_ones_write_nothing(
    server: ServerProcess, database_url: str
) -> None:
    engine = create_engine(database_url)
    client = httpx.Client(base_url=server.url, timeout=60)
    exported = _seed(client)
    counts: Counter[str] = Counter()
    examples: list[str] = []

    def note(kind: str, request: Request, response: httpx.Response) -> None:
        counts[kind] += 1
        if len(examples) < 8:
            body = (request.content or b"")[:120]
            examples.append(
                f"{kind}: {request.method} {request.path[:80]} {request.params} "
                f"{request.headers} {body!r} -> {response.status_code} {response.text[:160]}"
            )

    @settings(
        max_examples=EXAMPLES,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.lists(
            st.one_of(api_request(), api_request(), ui_form(), import_file(exported)),
            min_size=BATCH,
            max_size=BATCH,
        )
    )
    def run(batch: list[Request]) -> None:
        for request in batch:
            before = fingerprint(engine) if request.writes else None
            try:
                response = _send(client, request)
            except httpx.TransportError as exc:  # no answer at all: as bad as a 5xx
                note("no answer", request, httpx.Response(599, text=repr(exc)))
                continue
            finally:
                counts["requests"] += 1
            status = response.status_code
            if status >= 500:
                note("5xx", request, response)
            elif status >= 400 and before is not None and fingerprint(engine) != before:
                note("half-written", request, response)
            if status >= 400 and request.method != "HEAD":
                kind = response.headers.get("content-type", "")
                wanted = "text/html" if request.path.startswith("/ui/") else "problem+json"
                if wanted not in kind:
                    note("wrong error shape", request, response)

    try:
        run()
        sweep = health_sweep(client)
    finally:
        client.close()
        engine.dispose()
    figure(
        "hostile requests",
        f"{counts['requests']} requests, {counts['5xx']} 5xx, {counts['no answer']} unanswered, "
        f"{counts['half-written']} half-written, {counts['wrong error shape']} wrong error "
        f"shapes; health sweep {sweep.requests} reads, {len(sweep.failures)} sweep failures",
    )
    assert counts["requests"] >= EXAMPLES * BATCH
    assert not examples, "\n".join(examples)
    assert not sweep.failures, sweep.failures[:10]
