/** `npm pack` makes a tarball that installs in an empty project (offline: the package has no
 * dependency) and type-checks there with strict settings, then runs. */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TSC = join(PACKAGE, "node_modules", "typescript", "bin", "tsc");
const NPM = process.env["npm_execpath"] ?? "npm";

function npm(args: string[], cwd: string): string {
  const [cmd, pre] = NPM.endsWith(".js") ? [process.execPath, [NPM]] : [NPM, []];
  return execFileSync(cmd, [...pre, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const CONSUMER = `
import { Client, ConnectionFailed, PromptNotFound, render, type ActivePrompt, type Message } from "promptdeck";

const client = new Client({ baseUrl: "http://127.0.0.1:9", retries: 0, timeout: 1, logger: null });
const prompt: ActivePrompt = await client.getActive("support-reply", { fallback: "Answer {{question}}." });
const text: string | Message[] = prompt.render({ question: "why?" });
const messages = render("chat", "plain", JSON.stringify([{ role: "user", content: "{{q}}" }]), { q: "hi" });
let failed = false;
try {
  await client.getPrompt("support-reply");
} catch (exc) {
  failed = exc instanceof ConnectionFailed && !(exc instanceof PromptNotFound);
}
await client.close();
console.log(JSON.stringify({ source: prompt.source, text, messages: messages.messages, failed }));
`;

test("npm pack's tarball installs in an empty project, type-checks strictly and runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "promptdeck-pack-"));
  try {
    npm(["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], PACKAGE);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack made no tarball");
    const listing = execFileSync("tar", ["tzf", join(dir, tarball)], { encoding: "utf8" }).split("\n");
    assert.ok(listing.includes("package/dist/index.d.ts") && listing.includes("package/dist/index.js"));
    assert.ok(!listing.some((f) => f.includes("/test/") || f.includes("/src/")), listing.join("\n"));
    const project = join(dir, "app");
    execFileSync("mkdir", ["-p", project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    npm(["install", "--offline", "--no-audit", "--no-fund", "--silent", join(dir, tarball)], project);
    writeFileSync(join(project, "main.ts"), CONSUMER);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          outDir: "out",
        },
        files: ["main.ts"],
      }),
    );
    execFileSync(process.execPath, [TSC, "-p", project], { encoding: "utf8" });
    const out = JSON.parse(execFileSync(process.execPath, [join(project, "out", "main.js")], { encoding: "utf8" }));
    assert.deepEqual(out, {
      source: "fallback",
      text: "Answer why?.",
      messages: [{ role: "user", content: "hi" }],
      failed: true,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
