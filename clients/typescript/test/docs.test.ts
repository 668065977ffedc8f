/** docs/typescript.md's examples run as written against a real server: the first one, then
 * the script from start to end (fetch, render, report, a rollback seen through the push
 * stream, the last good copy once the server is killed). */

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { REPO, Server } from "./support.js";

const DOC = readFileSync(join(REPO, "docs", "typescript.md"), "utf8");
const BLOCKS = [...DOC.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
// Inside the package, so that "promptdeck" resolves to it as it would in an application.
const BUILD = dirname(dirname(fileURLToPath(import.meta.url)));

let server: Server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await server.close();
});

function example(index: number, file: string): string {
  const code = BLOCKS[index] ?? "";
  assert.ok(code.includes("http://127.0.0.1:8000"), `block ${index} names the default URL`);
  const path = join(BUILD, file);
  writeFileSync(path, code.replaceAll("http://127.0.0.1:8000", server.url));
  return path;
}

test("the first example of docs/typescript.md runs as written", () => {
  const path = example(0, "docs-first.mjs");
  try {
    const out = execFileSync(process.execPath, [path], { encoding: "utf8", timeout: 60_000 });
    assert.match(out, /^concise You are a concise support agent\. Answer: \{\{question\}\}$/m);
  } finally {
    rmSync(path);
  }
});

test("the script from start to end sees the rollback through the stream and then serves the last good copy", async (t) => {
  const index = BLOCKS.findIndex((b) => b.includes("Stop the server now"));
  const path = example(index, "docs-script.mjs");
  const child = spawn(process.execPath, [path], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      lines.push(line);
      const seen = /^rolled back to concise: seen after ([0-9.]+) ms$/.exec(line);
      if (seen !== null) {
        t.diagnostic(`figure: the docs script saw the rollback through the push stream after ${seen[1]} ms`);
        await server.kill(); // the server stops: the script keeps serving its copy
      }
    }
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill();
    rmSync(path);
  }
  assert.equal(lines[0], "You are a kind support agent. Answer: Where is my parcel?"); // rolled back to 1 above
  assert.ok(lines.some((l) => l.startsWith("rolled back to concise")), lines.join("\n"));
  assert.ok(lines.includes("stale concise"), lines.join("\n"));
  assert.equal(lines.at(-1), "outcomes sent: 1");
  assert.match(stderr, /serving the last good copy of 'support-reply'/);
});
