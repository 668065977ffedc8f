"""The provider client's share of the evaluation benchmark (issue 25): ``--cases`` cases on
two versions (2 x cases calls) through ``promptdeck.outgoing.Provider`` against the stand-in
OpenAI-compatible server (tests/support/fake_llm.py) answering in ``--latency-ms``, with
``--in-flight`` calls at once; whole answers, or streams with ``--stream``.

    .venv/bin/python -m bench.providers                      # 1,000 cases, 200 ms, 16 in flight
    .venv/bin/python -m bench.providers --stream

Prints the wall time against the floor (calls x latency / in flight), the calls a second,
and this process's memory (RSS) before, at the half and at the end: flat means the client
keeps nothing per call.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import threading
import time
from multiprocessing import Process, Queue
from pathlib import Path

from tests.support.fake_llm import Answer, FakeLLM

from promptdeck.domain.completions import Completion
from promptdeck.domain.outgoing import parse_allowance
from promptdeck.domain.providers import ChatRequest, Secret, provider_config
from promptdeck.outgoing.provider import Provider


def rss_mb() -> float:
    """The resident set now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def serve(latency_ms: int, urls: Queue[str]) -> None:
    """The stand-in server, in a process of its own (its threads take no CPU from ours)."""
    with FakeLLM(models=("m",)) as llm:
        llm.script(Answer(text="A short and polite answer to the customer.", latency_ms=latency_ms))
        urls.put(llm.url)
        threading.Event().wait()


async def main(cases: int, latency_ms: int, in_flight: int, stream: bool) -> None:
    urls: Queue[str] = Queue()
    server = Process(target=serve, args=(latency_ms, urls), daemon=True)
    server.start()
    try:
        await run(urls.get(timeout=30), cases, latency_ms, in_flight, stream)
    finally:
        server.terminate()
        server.join()


async def run(url: str, cases: int, latency_ms: int, in_flight: int, stream: bool) -> None:
    config = provider_config("bench", url, ["m"], prices={"m": {"input": 1, "output": 2}})
    gate = asyncio.Semaphore(in_flight)
    done = 0
    memory = [rss_mb()]
    async with Provider(
        config, key=Secret("sk-bench"), allowance=parse_allowance("127.0.0.1")
    ) as provider:

        async def one(i: int) -> Completion:
            nonlocal done
            request = ChatRequest(
                model="m",
                messages=[{"role": "user", "content": f"case {i}: {random.random()}"}],
                model_config={"temperature": 0},
            )
            async with gate:
                if stream:
                    found = [x async for x in provider.stream(request)][-1]
                    assert isinstance(found, Completion)
                else:
                    found = await provider.complete(request)
            done += 1
            if done == cases:
                memory.append(rss_mb())
            return found

        started, cpu = time.perf_counter(), time.process_time()
        answers = await asyncio.gather(*(one(i) for i in range(2 * cases)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    memory.append(rss_mb())
    calls = 2 * cases
    floor = calls * latency_ms / 1000 / in_flight
    cost = sum(a.cost or 0 for a in answers)
    print(
        f"{calls} calls ({cases} cases x 2 versions), {latency_ms} ms each, {in_flight} in "
        f"flight, {'streamed' if stream else 'whole'}: {wall:.1f} s (floor {floor:.1f} s), "
        f"{calls / wall:.0f} calls/s, client CPU {cpu / calls * 1000:.2f} ms a call; "
        f"RSS {memory[0]:.0f} -> {memory[1]:.0f} -> "
        f"{memory[2]:.0f} MB; cost summed {cost:.4f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--stream", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.latency_ms, args.in_flight, args.stream))
