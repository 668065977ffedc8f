#!/usr/bin/env bash
# Start promptdeck on the SQLite default (promptdeck.db here), from a fresh clone: makes .venv
# and installs promptdeck with its server first. Flags go to `promptdeck serve` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh "[server]"
exec .venv/bin/promptdeck serve "$@"
