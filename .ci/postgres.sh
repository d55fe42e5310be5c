#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the postgres state backend, on loopback only.
#
#   dir=$(.ci/postgres.sh start)   # initdb into a new temporary directory, start, print the directory
#   . "$dir/env"                   # exports SYNCER_TEST_PG_DSN (password included: keep it to yourself)
#   .ci/postgres.sh stop "$dir"    # stop the server and remove the directory
#
# The server listens on 127.0.0.1 (a free port) and on a unix socket inside the directory, with password
# authentication (a random password). PostgreSQL refuses to run as root: as root, the server runs as
# $SYNCER_PG_OS_USER (default syncer-ci, created as a system user when missing; `nobody` when it cannot be).
# The binaries are found on PATH, else in /usr/lib/postgresql/*/bin (Debian's layout).
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin" # runuser, useradd

find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local d
  while IFS= read -r d; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return
    fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
  echo "postgres.sh: no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
  exit 2
}

as_user() {
  # Run a command as the server's user: ourselves, unless we are root.
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PGUSER_OS" -- "$@"
  else
    "$@"
  fi
}

pick_os_user() {
  PGUSER_OS=${SYNCER_PG_OS_USER:-syncer-ci}
  if [ "$(id -u)" -ne 0 ]; then
    PGUSER_OS=$(id -un)
    return
  fi
  if ! id -u "$PGUSER_OS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS" >/dev/null 2>&1 || PGUSER_OS=nobody
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local bin dir port password
  bin=$(find_bin)
  pick_os_user
  dir=$(mktemp -d "${TMPDIR:-/tmp}/syncer-pg.XXXXXX")
  trap 'cat "$dir"/*.log >&2 2>/dev/null; rm -rf "$dir"' ERR
  mkdir "$dir/data" "$dir/run"
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  (umask 077 && printf '%s\n' "$password" >"$dir/pwfile")
  if [ "$(id -u)" -eq 0 ]; then
    chown -R "$PGUSER_OS" "$dir"
  fi
  as_user "$bin/initdb" -D "$dir/data" -U syncer --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
  rm -f "$dir/pwfile"
  port=$(free_port)
  as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/run -c max_connections=100" start >/dev/null
  (umask 077 && printf 'export SYNCER_TEST_PG_DSN=%q\n' \
    "postgresql://syncer:$password@127.0.0.1:$port/postgres" >"$dir/env")
  trap - ERR
  echo "$dir"
}

stop() {
  local dir=${1:?usage: postgres.sh stop DIR}
  local bin
  bin=$(find_bin)
  pick_os_user
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  case "$dir" in
    "${TMPDIR:-/tmp}"/syncer-pg.*) rm -rf "$dir" ;;
    *) echo "postgres.sh: not removing $dir (not a directory this script made)" >&2 ;;
  esac
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
