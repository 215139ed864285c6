#!/usr/bin/env bash
# Starts a throwaway MariaDB on 127.0.0.1 with its own data directory and
# prints its data directory and URL. Installs Debian's mariadb-server (and
# libmariadb-dev, which diesel's mysql backend links against) when missing.
# Stop it with: .ci/mariadb.sh stop DATADIR; only install: .ci/mariadb.sh install
set -euo pipefail

if [ "${1:-}" = stop ]; then
  if [ -e "$2/mariadb.pid" ]; then
    kill "$(cat "$2/mariadb.pid")" 2>/dev/null || true
    for _ in $(seq 50); do [ -e "$2/mariadb.pid" ] || break; sleep 0.2; done
  fi
  rm -rf "$2"
  exit 0
fi

missing=()
command -v mariadb-install-db >/dev/null 2>&1 || missing+=(mariadb-server)
[ -e /usr/include/mariadb/mysql.h ] || missing+=(libmariadb-dev libmariadb-dev-compat)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
[ "${1:-}" = install ] && exit 0

port=${MYSQLPORT_ORM:-33069}
data=$(mktemp -d /tmp/orm-mariadb.XXXXXX)
chown mysql "$data"
mariadb-install-db --user=mysql --datadir="$data/db" --auth-root-authentication-method=normal \
  --skip-test-db >/dev/null
chown -R mysql "$data"
runuser -u mysql -- mariadbd --datadir="$data/db" --bind-address=127.0.0.1 --port="$port" \
  --socket="$data/mariadb.sock" --pid-file="$data/mariadb.pid" \
  --innodb-flush-log-at-trx-commit=0 --max-connections=200 >"$data/server.log" 2>&1 &
for _ in $(seq 100); do
  mariadb-admin --socket="$data/mariadb.sock" -uroot ping >/dev/null 2>&1 && break
  sleep 0.2
done
mariadb --socket="$data/mariadb.sock" -uroot -e \
  "CREATE USER IF NOT EXISTS 'orm'@'127.0.0.1' IDENTIFIED BY 'orm'; \
   GRANT ALL ON *.* TO 'orm'@'127.0.0.1'; CREATE DATABASE IF NOT EXISTS orm;"
echo "$data mysql://orm:orm@127.0.0.1:$port/orm"
