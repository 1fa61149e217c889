#!/usr/bin/env bash
# The whole test suite: lint, then the embedded default's tests on SQLite, then every test (browser included) on
# PostgreSQL.
# Installs what the tests need from Debian's packages when missing (PostgreSQL, Redis, Chromium, a CJK font),
# and starts a throwaway PostgreSQL cluster on loopback unless TEST_DATABASE_URL is already set.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# Python keeps its compiled bytecode (__pycache__, git-ignored) even where the environment says not to
# (PYTHONDONTWRITEBYTECODE=1 on this machine): otherwise every Python process the suite starts (the test workers,
# gunicorn servers and clocks, command-line runs) compiles every module of the market and pytest rewrites every
# test module again, ~1–2 s per process on a busy 2-core machine.
unset PYTHONDONTWRITEBYTECODE

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi micro hei" || need+=(fonts-wqy-microhei)
# WeasyPrint (the monthly reports' PDF) needs Pango
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" || need+=(libpango-1.0-0 libpangoft2-1.0-0)
# the many-machines tests start a throwaway Redis (tests/conftest.py `redis_url`)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ -z "${TEST_DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== lint"
$BIN/ruff check marketplace tests bench migrations/versions
$BIN/ruff format --check marketplace tests bench
$BIN/lint-imports --no-logo  # the import contracts in pyproject.toml: feature layers, no circles

# Every app the tests build (and every server they start) compiled the templates it rendered again: they share one
# folder of compiled templates instead (Jinja's bytecode cache, keyed by each template's source; TEMPLATE_CACHE_DIR,
# marketplace/config.py).
TEMPLATE_CACHE_DIR=$(mktemp -d /tmp/mp-templates.XXXXXX)
export TEMPLATE_CACHE_DIR

PG_DIR=""
cleanup() {
  rm -rf "$TEMPLATE_CACHE_DIR"
  if [ -n "$PG_DIR" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
trap cleanup EXIT

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PG_DIR=$(mktemp -d /tmp/mp-pg.XXXXXX)
  chown postgres "$PG_DIR"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300" start >/dev/null
  export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
fi

# Each database's run uses both cores (pytest-xdist): a module's tests stay in one worker (its module- and
# session-wide fixtures are built once), the longest modules start first (tests/conftest.py HEAVY_FIRST; without
# --no-loadscope-reorder xdist would hand out the modules with the most tests first, which put the long
# one-test modules, the whole demo among them, last: one worker busy, the other idle). The browser tests run on
# PostgreSQL only.
XDIST=(-n "${TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder)

# PostgreSQL is the database of record: every test runs on it. SQLite, the first run's embedded default, runs the
# unit tests (services, migrations, the whole demo) and the modules marked `sqlite`: every GET route for every
# viewer, locking and concurrency, money limits, dialect-specific figures.
echo "== tests on SQLite (the embedded default)"
sqlite_status=0
env -u TEST_DATABASE_URL $BIN/python -m pytest -q -m "sqlite and not e2e" -p no:cacheprovider "${XDIST[@]}" \
  --durations=10 || sqlite_status=$?

echo "== tests on PostgreSQL (with the browser tests)"
pg_status=0
$BIN/python -m pytest -q -p no:cacheprovider "${XDIST[@]}" --durations=15 || pg_status=$?

echo "== SQLite: exit $sqlite_status · PostgreSQL: exit $pg_status"
[ "$sqlite_status" = 0 ] && [ "$pg_status" = 0 ]
