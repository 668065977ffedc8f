#!/usr/bin/env bash
# The whole test suite, from a fresh clone: makes .venv, installs promptdeck with its dev
# tools, installs Chromium and PostgreSQL when missing, runs lint and types, then every test
# on SQLite and again on a throwaway PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh "[dev]"

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Chromium (apt-get)…" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

echo "== lint, types and layer contracts" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/python scripts/unasync.py --check # client/sync.py is generated from client/aio.py

# The TypeScript client (clients/typescript): Node from apt when missing, npm ci, tsc, tests
# against a real server. It needs .venv (above) and nothing else.
bash scripts/test-ts.sh

# shellcheck source=scripts/pg.sh
PG_FSYNC=off source scripts/pg.sh
trap pg_stop EXIT

# The two passes run side by side (SQLite and PostgreSQL share nothing: each has its own
# temporary directory, figures file and log), which halves the wall time on two cores; each
# pass's output is printed whole when both have ended, so CI's log reads one pass at a time.
# Each load test writes one "figure:" line (what it did and what held); they are printed
# after each pass.
logs=$(mktemp -d /tmp/promptdeck-passes.XXXXXX)
run_pass() {
  local backend=$1
  shift
  PROMPTDECK_FIGURES_FILE="$logs/$backend.figures" PROMPTDECK_TEST_BACKEND=$backend \
    .venv/bin/python -m pytest --durations=15 -p no:cacheprovider \
    --basetemp="$logs/$backend.tmp" "$@" >"$logs/$backend.log" 2>&1
}
: >"$logs/sqlite.figures"
: >"$logs/postgresql.figures"
echo "== tests on sqlite and postgresql, side by side (started $(date -u +%H:%M:%S))" >&2
run_pass sqlite "$@" &
sqlite_pid=$!
run_pass postgresql "$@" &
postgresql_pid=$!
status=0
wait $sqlite_pid || status=$?
wait $postgresql_pid || status=$?
for backend in sqlite postgresql; do
  echo "== tests on $backend" >&2
  cat "$logs/$backend.log"
  echo "== figures on $backend" >&2
  cat "$logs/$backend.figures"
done
echo "== both passes ended $(date -u +%H:%M:%S)" >&2
rm -rf "$logs"
exit $status
