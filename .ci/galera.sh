#!/usr/bin/env bash
# Starts a throwaway three-node MariaDB Galera cluster on 127.0.0.1, each
# node with its own data directory, ports and config file (passed with
# --defaults-file, so nothing system-wide is read), waits for the cluster
# size to be 3, and prints its directory and the three nodes' URLs:
#   DIR URL1 URL2 URL3
# Installs Debian's galera-4 and rsync (the state transfer) when missing,
# after what .ci/mariadb.sh installs. Stop it with: .ci/galera.sh stop DIR
# Stop (kill -9) one node, for a test: .ci/galera.sh kill DIR N
set -euo pipefail

stop_node() { # DIR N SIGNAL
  local pid="$1/node$2/mariadb.pid"
  if [ -e "$pid" ]; then
    kill "-$3" "$(cat "$pid")" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$(cat "$pid" 2>/dev/null)" 2>/dev/null || break; sleep 0.2; done
    rm -f "$pid"
  fi
}

case "${1:-}" in
  stop)
    for n in 3 2 1; do stop_node "$2" "$n" TERM; done
    rm -rf "$2"
    exit 0
    ;;
  kill)
    stop_node "$2" "$3" KILL
    exit 0
    ;;
esac

here=$(dirname "$0")
# The server, the client library and the tools, as for a single server.
"$here/mariadb.sh" install
missing=()
provider=$(dpkg -L galera-4 2>/dev/null | grep -m1 'libgalera_smm\.so$' || true)
[ -n "$provider" ] || missing+=(galera-4)
command -v rsync >/dev/null 2>&1 || missing+=(rsync)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  provider=$(dpkg -L galera-4 | grep -m1 'libgalera_smm\.so$')
fi

base=${GALERA_PORT_ORM:-33170}
dir=$(mktemp -d /tmp/orm-galera.XXXXXX)
chown mysql "$dir"
gcomm=""
for n in 1 2 3; do gcomm+="${gcomm:+,}127.0.0.1:$((base + 10 * n + 1))"; done

for n in 1 2 3; do
  node="$dir/node$n"
  port=$((base + 10 * n))
  mkdir -p "$node"
  cat >"$node/my.cnf" <<EOF
[mariadbd]
datadir=$node/db
socket=$node/mariadb.sock
pid-file=$node/mariadb.pid
bind-address=127.0.0.1
port=$port
max-connections=200
innodb-flush-log-at-trx-commit=0
# What Debian's system config sets for the single server, which
# --defaults-file leaves out: UTF-8 that holds every character.
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$provider
wsrep_cluster_name=orm
wsrep_cluster_address=gcomm://$gcomm
wsrep_node_address=127.0.0.1:$((port + 1))
wsrep_node_name=node$n
wsrep_provider_options=gmcast.listen_addr=tcp://127.0.0.1:$((port + 1));ist.recv_addr=127.0.0.1:$((port + 2));base_port=$((port + 1))
wsrep_sst_receive_address=127.0.0.1:$((port + 3))
wsrep_sst_method=rsync
EOF
  mariadb-install-db --defaults-file="$node/my.cnf" --user=mysql \
    --auth-root-authentication-method=normal --skip-test-db >/dev/null
  chown -R mysql "$node"
done

start() { # N [extra args]
  local n=$1
  shift
  runuser -u mysql -- mariadbd --defaults-file="$dir/node$n/my.cnf" "$@" \
    >"$dir/node$n/server.log" 2>&1 &
}

size() { # N: the cluster size node N reports, or nothing
  mariadb --socket="$dir/node$1/mariadb.sock" -uroot -N -e \
    "SHOW STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null | awk '{print $2}'
}

wait_size() { # N SIZE
  for _ in $(seq 300); do
    [ "$(size "$1")" = "$2" ] && return 0
    sleep 0.2
  done
  echo "node $1 did not see a cluster of $2; its log:" >&2
  tail -n 40 "$dir/node$1/server.log" >&2
  return 1
}

start 1 --wsrep-new-cluster
wait_size 1 1
# The user and database replicate to the nodes that join.
mariadb --socket="$dir/node1/mariadb.sock" -uroot -e \
  "CREATE USER IF NOT EXISTS 'orm'@'127.0.0.1' IDENTIFIED BY 'orm'; \
   GRANT ALL ON *.* TO 'orm'@'127.0.0.1'; CREATE DATABASE IF NOT EXISTS orm;"
# One at a time: each joins by a full state transfer from a running node.
start 2
wait_size 2 2
start 3
wait_size 3 3

urls=""
for n in 1 2 3; do urls+=" mysql://orm:orm@127.0.0.1:$((base + 10 * n))/orm"; done
echo "$dir$urls"
