#!/usr/bin/env bash
# Start promptdeck on the SQLite default (promptdeck.db here), from a fresh clone: makes .venv
# and installs promptdeck first. Flags go to `promptdeck serve` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/promptdeck serve "$@"
