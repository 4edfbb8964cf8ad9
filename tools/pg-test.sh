#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for tests and benchmarks (TESTING.md): initdb as the
# postgres user (initdb refuses root) in a temp dir, on a free 127.0.0.1 port, socket dir in
# the temp dir.  Only 127.0.0.1 is ever listened on.
#
#   tools/pg-test.sh start [DIR] [durable]  init + start; prints the connection URI on stdout.
#                                           DIR defaults to a new mktemp dir.  Without
#                                           "durable": fsync off (tests: speed, not crash
#                                           safety); with it: PostgreSQL's defaults
#                                           (synchronous commit, fsync) for benchmarks.
#   tools/pg-test.sh stop DIR               pg_ctl -m fast stop, then remove DIR
#   tools/pg-test.sh halt DIR               stop the server, keep DIR (restart with resume)
#   tools/pg-test.sh resume DIR             start the stopped server of DIR on its port again
#   tools/pg-test.sh uri DIR                print the URI again
#
# DIR holds data/, log, port, uri.  Run as root (uses runuser) or as postgres.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  /usr/bin/python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

server_start() { # DIR PORT
  as_pg "$PGBIN/pg_ctl" -D "$1/data" -l "$1/log" -w -t 60 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1" start >/dev/null
}

cmd=${1:-}
case "$cmd" in
start)
  dir=${2:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/af_pg.XXXXXX)
  fi
  mkdir -p "$dir"
  chmod 0755 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U authflow -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  {
    echo "max_connections = 200"
    echo "shared_buffers = 64MB"
    if [ "${3:-}" != durable ]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
  for try in 1 2 3 4 5; do # a free port may be taken between choice and bind: retry
    port=$(free_port)
    if server_start "$dir" "$port"; then
      break
    fi
    [ "$try" = 5 ] && { cat "$dir/log" >&2; exit 1; }
  done
  echo "$port" | as_pg tee "$dir/port" >/dev/null
  uri="postgresql://authflow@127.0.0.1:$port/postgres?connect_timeout=2"
  echo "$uri" | as_pg tee "$dir/uri" >/dev/null
  echo "$uri"
  ;;
stop)
  dir=${2:?usage: pg-test.sh stop DIR}
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  case "$dir" in /tmp/*|"$PWD"/build/*) rm -rf "$dir" ;; esac
  ;;
halt)
  dir=${2:?usage: pg-test.sh halt DIR}
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
resume)
  dir=${2:?usage: pg-test.sh resume DIR}
  server_start "$dir" "$(cat "$dir/port")"
  ;;
uri)
  cat "${2:?usage: pg-test.sh uri DIR}/uri"
  ;;
*)
  echo "usage: tools/pg-test.sh start [DIR] [durable] | stop DIR | halt DIR | resume DIR | uri DIR" >&2
  exit 2
  ;;
esac
