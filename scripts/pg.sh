#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: its own data directory, port and socket directory, so it never
# touches a PostgreSQL already running on the machine (5432).
#
#   scripts/pg.sh start  DIR PORT [DB]   initdb DIR/data if needed, start on 127.0.0.1:PORT, create DB
#   scripts/pg.sh stop   DIR             fast shutdown (the data stays: `start` again resumes it)
#   scripts/pg.sh status DIR             exit 0 if running
#
# DB defaults to `inplay`; connect as user `postgres` with any password (trust authentication),
# e.g. `psql -h 127.0.0.1 -p PORT -U postgres inplay`. Durability is off (fsync=off): fast, and fine
# for data that is thrown away. Installs the Debian `postgresql` package if no server binaries are
# found. PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
# DIR is created if missing, must be an absolute path without spaces, and is not removed by `stop`.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT [DB] | stop DIR | status DIR" >&2
  exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
case "$dir" in
  /*) ;;
  *) echo "pg.sh: DIR must be an absolute path: $dir" >&2; exit 2 ;;
esac
case "$dir" in
  *[[:space:]]*) echo "pg.sh: DIR must not contain spaces: $dir" >&2; exit 2 ;;
esac

# The newest installed server's binaries (Debian keeps them out of PATH).
pg_bin() {
  local initdb
  initdb=$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$initdb" ] && dirname "$initdb"
}

install_server() {
  if [ -n "$(pg_bin)" ]; then
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "pg.sh: PostgreSQL is not installed; as root run: apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "pg.sh: installing PostgreSQL (apt-get install postgresql)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Runs a command as the `postgres` user when we are root (the server refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

start() {
  local port=$1 db=$2 bin
  install_server
  bin=$(pg_bin)
  mkdir -p "$dir/sock"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$dir"
  fi
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  local opts="-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off"
  opts+=" -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB"
  opts+=" -c max_connections=40"
  if ! as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "$opts" -w -t 30 -s start; then
    tail -n 20 "$dir/postgres.log" >&2 || true
    exit 1
  fi
  local psql=("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1)
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
  fi
}

stop() {
  local bin
  bin=$(pg_bin)
  [ -n "$bin" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 -s stop
  fi
}

status() {
  local bin
  bin=$(pg_bin)
  [ -n "$bin" ] && [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null
}

case "$cmd" in
  start)
    [ $# -ge 3 ] || usage
    case "$3" in
      ''|*[!0-9]*) echo "pg.sh: PORT must be a number: $3" >&2; exit 2 ;;
    esac
    db=${4:-inplay}
    case "$db" in
      ''|*[!a-z0-9_]*) echo "pg.sh: DB must be lower-case letters, digits and _: $db" >&2; exit 2 ;;
    esac
    start "$3" "$db"
    ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
