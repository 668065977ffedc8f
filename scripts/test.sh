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
source scripts/pg.sh
trap pg_stop EXIT

# Each load test writes one "figure:" line (what it did and what held) to this file; they
# are printed after each pass, so CI's log carries them.
PROMPTDECK_FIGURES_FILE=$(mktemp /tmp/promptdeck-figures.XXXXXX)
export PROMPTDECK_FIGURES_FILE

status=0
for backend in sqlite postgresql; do
  echo "== tests on $backend" >&2
  : >"$PROMPTDECK_FIGURES_FILE"
  PROMPTDECK_TEST_BACKEND=$backend .venv/bin/python -m pytest --durations=15 "$@" || status=$?
  echo "== figures on $backend" >&2
  cat "$PROMPTDECK_FIGURES_FILE"
done
rm -f "$PROMPTDECK_FIGURES_FILE"
exit $status
