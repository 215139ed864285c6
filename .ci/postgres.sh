#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 with its own data directory and
# prints its URL. Installs Debian's postgresql (and libpq-dev, which diesel
# links against) when missing. Stop it with: .ci/postgres.sh stop DATADIR
#
# .ci/postgres.sh standby PRIMARY_DATADIR starts a hot standby of that server
# on the next port (pg_basebackup through a replication slot, streaming WAL)
# and prints its data directory and URL in the same way.
set -euo pipefail

if [ "${1:-}" = stop ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  runuser -u postgres -- "$bin/pg_ctl" -D "$2" -m fast stop >/dev/null || true
  rm -rf "$2"
  exit 0
fi

if [ "${1:-}" = standby ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  primary_port=$(sed -n 4p "$2/postmaster.pid")
  port=$((primary_port + 1))
  data=$(mktemp -d /tmp/orm-pg-standby.XXXXXX)
  chown postgres "$data"
  chmod 700 "$data"
  runuser -u postgres -- "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
    -D "$data" -R -C -S "orm_standby_$port" -X stream >&2
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=200 -c hot_standby_feedback=on" start >&2
  echo "$data postgres://postgres@127.0.0.1:$port/postgres"
  exit 0
fi

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -e /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
port=${PGPORT_ORM:-54329}
data=$(mktemp -d /tmp/orm-pg.XXXXXX)
chown postgres "$data"
runuser -u postgres -- "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-h 127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=200" start >&2
echo "$data postgres://postgres@127.0.0.1:$port/postgres"
