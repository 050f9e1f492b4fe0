#!/usr/bin/env bash
# A Temporal server of your own (not the dev server), built by scripts/ensure-temporal-server.sh,
# with persistence and visibility on PostgreSQL and Temporal's default task-queue partitions.
#
#   bash scripts/temporal-cluster.sh start   [--state-dir DIR] [--port 7233] [--database tempest_temporal] [--dynamic-config FILE]
#   bash scripts/temporal-cluster.sh stop    [--state-dir DIR]   # the server stops; its history stays
#   bash scripts/temporal-cluster.sh destroy [--state-dir DIR]   # stops it, drops its databases, removes DIR
#
# start creates the databases NAME and NAME_visibility and their schemas the first time (later
# starts only bring the schemas up to date), writes the server's config into the state directory
# (default ~/.local/state/tempest/temporal-cluster), starts the server in the background, creates
# the `default` namespace and returns once it takes workflows. Its frontend is 127.0.0.1:PORT; the
# server's own internal ports are free ones. PostgreSQL is found with PGHOST (127.0.0.1), PGPORT
# (5432), PGUSER (postgres) and PGPASSWORD (none). The dynamic config file (default: an empty one in
# the state directory) is read again every 10 s.
set -euo pipefail
project="$(cd "$(dirname "$0")/.." && pwd)"
version="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
server_bin="${XDG_CACHE_HOME:-$HOME/.cache}/tempest/temporal-server-$version"
cli="${XDG_CACHE_HOME:-$HOME/.cache}/tempest/bin/temporal"

usage() {
  sed -n '5,7s/^# *//p' "$0" >&2
  exit 2
}

[ $# -ge 1 ] || usage
command="$1"
shift
state_dir="${XDG_STATE_HOME:-$HOME/.local/state}/tempest/temporal-cluster"
port=7233
port_given=""
database=tempest_temporal
database_given=""
dynamic_config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --state-dir) state_dir="$2"; shift 2 ;;
    --port) port="$2"; port_given=1; shift 2 ;;
    --database) database="$2"; database_given=1; shift 2 ;;
    --dynamic-config) dynamic_config="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; usage ;;
  esac
done
settings="$state_dir/cluster.env"
pid_file="$state_dir/temporal-server.pid"
log_file="$state_dir/temporal-server.log"

fail() {
  echo "temporal-cluster: $*" >&2
  exit 1
}

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  # The pid is ours only while it still runs our binary: a later process may have been given it.
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "temporal-server" || return 1
  echo "$pid"
}

listening() {
  (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null
}

# Distinct free ports, held all at once while they are chosen so that no two are the same. Below
# 32768: the server stores membership ports in a SMALLINT column (and Linux hands out ports above it
# to outgoing connections).
free_ports() {
  node -e '
    const net = require("node:net");
    const wanted = Number(process.argv[1]);
    const held = [];
    const tryNext = () => {
      if (held.length === wanted) {
        console.log(held.map((probe) => probe.address().port).join(" "));
        held.forEach((probe) => probe.close());
        return;
      }
      const probe = net.createServer();
      probe.once("error", tryNext);
      probe.listen(10000 + Math.floor(Math.random() * 22768), "127.0.0.1", () => {
        held.push(probe);
        tryNext();
      });
    };
    tryNext();' "$1"
}

sql_tool() {
  "$server_bin/temporal-sql-tool" --plugin postgres12 --endpoint "$pg_host" --port "$pg_port" --user "$pg_user" --password "$pg_password" "$@"
}

load_settings() {
  [ -f "$settings" ] || fail "no cluster in $state_dir (start one with: bash scripts/temporal-cluster.sh start --state-dir $state_dir)"
  # shellcheck source=/dev/null
  . "$settings"
}

write_server_config() {
  local ports
  read -r -a ports <<< "$(free_ports 8)"
  mkdir -p "$state_dir/config"
  # The file holds the PostgreSQL password (if there is one): readable by its owner only.
  (umask 077 && cat > "$state_dir/config/tempest.yaml") <<YAML
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: "$database"
        connectAddr: "$pg_host:$pg_port"
        connectProtocol: tcp
        user: "$pg_user"
        password: "$pg_password"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: "${database}_visibility"
        connectAddr: "$pg_host:$pg_port"
        connectProtocol: tcp
        user: "$pg_user"
        password: "$pg_password"
        maxConns: 4
        maxIdleConns: 4
        maxConnLifetime: 1h

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1

services:
  frontend:
    rpc:
      grpcPort: $port
      httpPort: ${ports[0]}
      membershipPort: ${ports[1]}
      bindOnIP: 127.0.0.1
  history:
    rpc:
      grpcPort: ${ports[2]}
      membershipPort: ${ports[3]}
      bindOnIP: 127.0.0.1
  matching:
    rpc:
      grpcPort: ${ports[4]}
      membershipPort: ${ports[5]}
      bindOnIP: 127.0.0.1
  worker:
    rpc:
      grpcPort: ${ports[6]}
      membershipPort: ${ports[7]}
      bindOnIP: 127.0.0.1

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:$port"

dcRedirectionPolicy:
  policy: noop

archival:
  history:
    state: disabled
  visibility:
    state: disabled

namespaceDefaults:
  archival:
    history:
      state: disabled
    visibility:
      state: disabled

dynamicConfigClient:
  filepath: "$dynamic_config"
  pollInterval: 10s
YAML
}

setup_schemas() {
  local db
  for db in "$database" "${database}_visibility"; do
    if [ ! -f "$state_dir/schema-created.$db" ]; then
      sql_tool --database "$db" create-database >> "$log_file" 2>&1 || fail "could not create the PostgreSQL database $db on $pg_host:$pg_port as $pg_user; see $log_file"
      sql_tool --database "$db" setup-schema --version 0.0 >> "$log_file" 2>&1 || fail "could not set up the schema of $db; see $log_file"
      touch "$state_dir/schema-created.$db"
    fi
  done
  # The schemas are embedded in the tool; update-schema brings them to the server's version.
  sql_tool --database "$database" update-schema --schema-name postgresql/v12/temporal >> "$log_file" 2>&1 || fail "could not update the schema of $database; see $log_file"
  sql_tool --database "${database}_visibility" update-schema --schema-name postgresql/v12/visibility >> "$log_file" 2>&1 || fail "could not update the schema of ${database}_visibility; see $log_file"
}

wait_until_ready() {
  local deadline=$((SECONDS + 90))
  until listening "$port"; do
    running_pid > /dev/null || fail "the Temporal server exited while starting; see $log_file"
    [ $SECONDS -lt $deadline ] || fail "the Temporal server did not listen on 127.0.0.1:$port within 90 s; see $log_file"
    sleep 0.2
  done
  if ! "$cli" operator namespace describe --address "127.0.0.1:$port" --namespace default > /dev/null 2>&1; then
    until "$cli" operator namespace create --address "127.0.0.1:$port" --namespace default --retention 72h >> "$log_file" 2>&1; do
      running_pid > /dev/null || fail "the Temporal server exited while starting; see $log_file"
      [ $SECONDS -lt $deadline ] || fail "could not create the default namespace; see $log_file"
      sleep 0.5
    done
  fi
  # A new namespace reaches every service's namespace cache some seconds later: until then starting a
  # workflow in it fails. Listing workflows goes through the same cache and visibility.
  until "$cli" workflow list --address "127.0.0.1:$port" --namespace default --limit 1 > /dev/null 2>&1; do
    running_pid > /dev/null || fail "the Temporal server exited while starting; see $log_file"
    [ $SECONDS -lt $deadline ] || fail "the default namespace did not become usable within 90 s; see $log_file"
    sleep 0.5
  done
}

start() {
  bash "$project/scripts/ensure-temporal-server.sh"
  bash "$project/scripts/ensure-temporal.sh"
  mkdir -p "$state_dir"
  if [ -f "$settings" ]; then
    # A cluster that exists keeps its databases and port: only the dynamic config may change.
    local wanted_port="$port" wanted_database="$database" wanted_dynamic_config="$dynamic_config"
    # shellcheck source=/dev/null
    . "$settings"
    [ -z "$port_given" ] || [ "$wanted_port" = "$port" ] || fail "the cluster in $state_dir listens on port $port: drop --port, or give another --state-dir"
    [ -z "$database_given" ] || [ "$wanted_database" = "$database" ] || fail "the cluster in $state_dir keeps its history in database $database: drop --database, or give another --state-dir"
    dynamic_config="${wanted_dynamic_config:-$dynamic_config}"
  else
    pg_host="${PGHOST:-127.0.0.1}"
    pg_port="${PGPORT:-5432}"
    pg_user="${PGUSER:-postgres}"
    pg_password="${PGPASSWORD:-}"
  fi
  if pid="$(running_pid)"; then
    echo "Temporal server already running (pid $pid) on 127.0.0.1:$port"
    return
  fi
  listening "$port" && fail "127.0.0.1:$port is taken by another server: choose another with --port"
  if [ -z "$dynamic_config" ]; then
    dynamic_config="$state_dir/dynamicconfig.yaml"
    [ -f "$dynamic_config" ] || : > "$dynamic_config"
  fi
  dynamic_config="$(cd "$(dirname "$dynamic_config")" && pwd)/$(basename "$dynamic_config")"
  # What stop and destroy need, and what a later start reuses (the password too: owner only).
  (umask 077 && for name in port database dynamic_config pg_host pg_port pg_user pg_password; do printf '%s=%q\n' "$name" "${!name}"; done > "$settings")
  listening "$pg_port" "$pg_host" || fail "PostgreSQL is not reachable on $pg_host:$pg_port: start it (apt-get install postgresql), or set PGHOST and PGPORT"
  setup_schemas
  write_server_config
  setsid "$server_bin/temporal-server" --root "$state_dir" --config config --env tempest --allow-no-auth start >> "$log_file" 2>&1 < /dev/null &
  echo $! > "$pid_file"
  wait_until_ready
  echo "Temporal server running (pid $(cat "$pid_file")) on 127.0.0.1:$port, history in PostgreSQL database $database; log $log_file"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill -TERM "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2> /dev/null; do
      if [ $SECONDS -ge $deadline ]; then
        kill -KILL "$pid"
        break
      fi
      sleep 0.2
    done
  fi
  rm -f "$pid_file"
}

destroy() {
  load_settings
  stop
  local db
  for db in "$database" "${database}_visibility"; do
    if [ -f "$state_dir/schema-created.$db" ]; then
      sql_tool --database "$db" drop-database --force > /dev/null 2>&1 || fail "could not drop the PostgreSQL database $db"
    fi
  done
  rm -rf "$state_dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  destroy) destroy ;;
  *) usage ;;
esac
