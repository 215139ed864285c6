#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 with its own data directory and
# prints its URL. Installs Debian's postgresql (and libpq-dev, which diesel
# links against) when missing. Stop it with: .ci/postgres.sh stop DATADIR
set -euo pipefail

if [ "${1:-}" = stop ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  runuser -u postgres -- "$bin/pg_ctl" -D "$2" -m fast stop >/dev/null || true
  rm -rf "$2"
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
