#!/usr/bin/env bash
# Make .venv and install promptdeck into it (with EXTRAS, e.g. "[dev]"), only when
# pyproject.toml changed since the last install. Sourced by serve.sh and test.sh.
set -euo pipefail
PY=${PYTHON:-python3}
EXTRAS=${1:-}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.promptdeck-installed$(echo "$EXTRAS" | tr -c 'a-z' '-')$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "installing promptdeck$EXTRAS into .venv…" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$EXTRAS" 2>&1 \
    | grep -v -e 'BuildBackendWarning' -e '^ *!!' -e '^ *\*\*\*' -e 'corresp(' >&2 || true
  .venv/bin/python -c 'import promptdeck' # fail here if the install did
  rm -f .venv/.promptdeck-installed*
  touch "$stamp"
fi
