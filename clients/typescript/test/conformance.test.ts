/** The shared fixtures at the repository's root: every case of conformance/render/*.json
 * against this client's contract checks and render (Jinja cases as far as the checks go),
 * and every case of conformance/assignment.json against its rollout assignment
 * (test/rollouts.test.ts). */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { runConformance } from "./conformance.js";
import { REPO } from "./support.js";

const RENDER = join(REPO, "conformance", "render");

const outcomes = runConformance(RENDER);
for (const outcome of outcomes) {
  const title = `render conformance ${outcome.file}: ${outcome.name}`;
  if (outcome.status === "skip") {
    test.skip(`${title} (${outcome.why})`, () => {});
  } else {
    test(title, () => {
      assert.equal(outcome.status, "pass", outcome.why);
    });
  }
}

test("every render conformance case runs here but the Jinja renders, and there are at least 100", () => {
  const skipped = outcomes.filter((o) => o.status === "skip");
  assert.ok(outcomes.length >= 100, `${outcomes.length} cases`);
  assert.ok(skipped.every((o) => o.file === "jinja.json"), JSON.stringify(skipped));
  assert.ok(outcomes.some((o) => o.file === "jinja.json" && o.status === "pass")); // its contract case
});

test("the conformance runner passes matching cases, fails wrong ones, and skips Jinja renders", () => {
  const dir = mkdtempSync(join(tmpdir(), "promptdeck-conformance-"));
  const base = '"kind": "text", "template_format": "plain"';
  try {
    writeFileSync(
      join(dir, "sample.json"),
      String.raw`{"cases": [
        {"name": "text", ${base}, "content": "Hi {{name}} {{n}}", "variables": {"name": "Ada", "n": 1.0}, "expect": {"text": "Hi Ada 1.0"}},
        {"name": "chat", "kind": "chat", "template_format": "plain", "messages": [{"role": "user", "content": "{{q}}"}],
         "variables": {"q": "?", "x": 1}, "expect": {"messages": [{"content": "?", "role": "user"}]}},
        {"name": "missing", ${base}, "content": "{{a}}{{b}}", "variables": {}, "expect": {"error": {"code": "missing-variables", "detail": "missing variables: a, b"}}},
        {"name": "checked", ${base}, "content": "{{a}}", "variables": {"a": 1},
         "contract": {"variables": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}},
         "expect": {"error": {"code": "variables-invalid", "paths": ["variables.a"], "errors": ["variables.a: expected string"]}}},
        {"name": "refused", ${base}, "content": "x", "variables": {}, "contract": {"tools": [{"type": "function", "function": {"name": "a b"}}]},
         "expect": {"error": {"code": "contract-invalid", "paths": ["contract.tools[0].function.name"]}}},
        {"name": "jinja", "kind": "text", "template_format": "jinja", "content": "{% if a %}x{% endif %}", "variables": {"a": 1}, "expect": {"text": "x"}},
        {"name": "wrong", ${base}, "content": "{{a}}", "variables": {"a": 1}, "expect": {"text": "2"}},
        {"name": "wrong error", ${base}, "content": "{{a}}", "variables": {}, "expect": {"error": {"code": "missing-variables", "detail": "no"}}},
        {"name": "unknown key", ${base}, "content": "{{a}}", "variables": {"a": 1}, "expected": "1", "expect": {"text": "1"}}
      ]}`,
    );
    assert.deepEqual(
      runConformance(dir).map((o) => [o.name, o.status]),
      [
        ["text", "pass"],
        ["chat", "pass"],
        ["missing", "pass"],
        ["checked", "pass"],
        ["refused", "pass"],
        ["jinja", "skip"],
        ["wrong", "fail"],
        ["wrong error", "fail"],
        ["unknown key", "fail"],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
