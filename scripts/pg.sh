#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the tests: installs the server when it is missing, runs
# initdb in a temporary folder, listens on a free loopback port. Source it; it exports
# PROMPTDECK_TEST_PG_URL, PGBIN, PG_TMPDIR (data in $PG_TMPDIR/data), PG_PORT and
# PG_START_OPTS (tests/support/databases.py restarts the cluster with them), and defines pg_stop.
set -euo pipefail

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "installing PostgreSQL (apt-get)…" >&2
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    else
      sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$d"
}

as_pg() {
  # initdb and postgres refuse to run as root: run them as the postgres user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

PGBIN=$(pg_bin)
PG_TMPDIR=$(mktemp -d /tmp/promptdeck-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_TMPDIR"
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$PG_TMPDIR/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
# The crash tests stop this cluster with -m immediate and start it again with the same options.
# PG_FSYNC=off (scripts/test.sh sets it; the benchmarks keep the default, on): a commit still
# writes its WAL to the kernel before it is acknowledged, so killing the server (what the
# crash tests do) loses nothing; only a crash of the machine would, and no test makes one. It
# saves a disk flush of 1 to 2 ms on each of the suite's commits.
PG_START_OPTS="-p $PG_PORT -k $PG_TMPDIR -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-on} -c max_connections=300"
as_pg "$PGBIN/pg_ctl" -D "$PG_TMPDIR/data" -l "$PG_TMPDIR/log" -w -t 60 -o "$PG_START_OPTS" \
  start >/dev/null
export PG_TMPDIR PG_PORT PGBIN PG_START_OPTS
export PROMPTDECK_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $PG_PORT ($PG_TMPDIR)" >&2

pg_stop() {
  as_pg "$PGBIN/pg_ctl" -D "$PG_TMPDIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMPDIR"
}
