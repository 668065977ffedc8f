#!/usr/bin/env bash
# The TypeScript client's checks (clients/typescript): installs Node.js and npm from the
# system's packages when node is missing, then `npm ci` (the committed lock file), the type
# check (strict), the build, and every test (`node --test`) against a real promptdeck server
# started here once and shared by the test files (some start their own to stop them).
# Expects .venv with promptdeck installed (scripts/test.sh makes it). Prints the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing Node.js and npm (apt-get)…" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "Node.js $(node --version) is too old: the client needs 18 or newer" >&2
  exit 2
fi
if [ ! -x .venv/bin/promptdeck ]; then
  echo ".venv/bin/promptdeck is missing: run scripts/test.sh (or source scripts/venv.sh \"[dev]\") first" >&2
  exit 2
fi

cd clients/typescript
echo "== TypeScript client: npm ci, types, build (node $(node --version))" >&2
npm ci --no-audit --no-fund --loglevel=error
rm -rf dist build
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.json
npx tsc -p test/tsconfig.json --noEmit
npx tsc -p test/tsconfig.json

# One server for every test file (a start costs seconds of Python imports and migrations).
tmp=$(mktemp -d /tmp/promptdeck-ts.XXXXXX)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
setsid "$ROOT/.venv/bin/promptdeck" serve --port "$port" --database-url "sqlite:///$tmp/db.sqlite" \
  --log-level warning >"$tmp/server.log" 2>&1 &
server=$!
stop_server() {
  kill -TERM -- "-$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap stop_server EXIT
export PROMPTDECK_TEST_URL="http://127.0.0.1:$port" PROMPTDECK_TEST_DATABASE="$tmp/db.sqlite"
node -e '
const url = process.env.PROMPTDECK_TEST_URL + "/healthz";
const until = Date.now() + 120000;
(async () => {
  while (Date.now() < until) {
    try { if ((await fetch(url)).status === 200) return; } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  console.error("promptdeck serve did not answer within 120 s"); process.exit(1);
})();' || { cat "$tmp/server.log" >&2; exit 1; }

echo "== TypeScript client: tests against $PROMPTDECK_TEST_URL" >&2
status=0
node --test --test-reporter=spec --test-reporter-destination=stdout build/test/*.test.js 2>&1 \
  | tee "$tmp/tests.log" || status=$?
echo "== TypeScript client: figures" >&2
grep -ho 'figure: .*' "$tmp/tests.log" || true
exit $status
