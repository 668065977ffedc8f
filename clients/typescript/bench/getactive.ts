/**
 * The TypeScript client's hot path, beside the Python client's and a plain fetch.
 *
 *     cd clients/typescript && npm run build && npm run build:test
 *     node build/bench/getactive.js [--calls 1000000] [--cold 500]
 *
 * Starts `promptdeck serve` on a fresh SQLite file (the repository's .venv), creates a prompt,
 * then measures in one process each: cached `getActive` calls per second (TypeScript, awaited
 * one after another), the same with the Python client's `Client.get_active` and
 * `AsyncClient.get_active` (run by .venv/bin/python), and a cold `getActive` (a new client
 * each time: one request, parsed into a version) against a plain `fetch` + `json()` of the
 * same URL, interleaved, as median and p99 latency. Prints a Markdown table.
 */

import { execFileSync } from "node:child_process";
import { join } from "node:path";

import { Client } from "promptdeck";

import { PYTHON_BIN, Server } from "../test/support.js";

const NAME = "support-reply";
const CONTENT = "You are a helpful support agent. Answer {{customer}} briefly and kindly.";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const PYTHON = `
import asyncio, sys, time
from promptdeck import AsyncClient, Client
url, name, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
with Client(url, cache_ttl=3600) as client:
    client.get_active(name)
    start = time.perf_counter()
    for _ in range(calls):
        client.get_active(name)
    sync_rate = calls / (time.perf_counter() - start)
async def run():
    async with AsyncClient(url, cache_ttl=3600) as client:
        await client.get_active(name)
        start = time.perf_counter()
        for _ in range(calls):
            await client.get_active(name)
        return calls / (time.perf_counter() - start)
print(sync_rate, asyncio.run(run()))
`;

async function main(): Promise<void> {
  const calls = arg("calls", 1_000_000);
  const cold = arg("cold", 500);
  const server = await Server.start();
  const rows: string[] = [];
  try {
    const client = new Client({ baseUrl: server.url, cacheTtl: 3600 });
    await client.createPrompt(NAME, CONTENT);
    await client.getActive(NAME);
    for (let i = 0; i < 100_000; i++) await client.getActive(NAME); // warm-up (JIT)
    let start = performance.now();
    for (let i = 0; i < calls; i++) await client.getActive(NAME);
    const tsRate = calls / ((performance.now() - start) / 1000);
    await client.close();

    const pyCalls = Math.max(1, Math.round(calls / 5));
    const out = execFileSync(join(PYTHON_BIN, "python"), ["-c", PYTHON, server.url, NAME, String(pyCalls)], {
      encoding: "utf8",
    });
    const [pySync = NaN, pyAsync = NaN] = out.trim().split(" ").map(Number);

    const url = `${server.url}/prompts/${NAME}/active`;
    const viaClient: number[] = [];
    const viaFetch: number[] = [];
    for (let i = 0; i < cold + 50; i++) {
      start = performance.now();
      const fresh = new Client({ baseUrl: server.url });
      await fresh.getActive(NAME);
      const a = performance.now() - start;
      start = performance.now();
      const answer = await fetch(url);
      await answer.json();
      const b = performance.now() - start;
      if (i >= 50) {
        viaClient.push(a);
        viaFetch.push(b);
      }
    }
    const ms = (v: number): string => v.toFixed(3);
    rows.push("| what | figure |", "|---|---|");
    rows.push(`| cached getActive, TypeScript (awaited in a loop, ${calls.toLocaleString("en")} calls) | **${Math.round(tsRate).toLocaleString("en")} calls/s** |`);
    rows.push(`| cached get_active, Python Client (${pyCalls.toLocaleString("en")} calls) | ${Math.round(pySync).toLocaleString("en")} calls/s |`);
    rows.push(`| cached get_active, Python AsyncClient (awaited) | ${Math.round(pyAsync).toLocaleString("en")} calls/s |`);
    rows.push(`| TypeScript / Python Client | ${(tsRate / pySync).toFixed(1)}x |`);
    rows.push(`| cold getActive (a new client: one request, parsed), median / p99 | ${ms(percentile(viaClient, 0.5))} / ${ms(percentile(viaClient, 0.99))} ms |`);
    rows.push(`| plain fetch + json() of the same URL, median / p99 | ${ms(percentile(viaFetch, 0.5))} / ${ms(percentile(viaFetch, 0.99))} ms |`);
  } finally {
    await server.close();
  }
  console.log(`node ${process.version}, ${new Date().toISOString()}\n`);
  console.log(rows.join("\n"));
}

await main();
