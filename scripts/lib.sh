# Shared helpers for the project's scripts: where each PostgreSQL lives, and
# throwaway clusters owned by `postgres` (PostgreSQL refuses to run as root).
# Source it; do not run it.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMS_PG16_DIR=${IMS_PG16_DIR:-/opt/postgresql-16}
IMS_PG17_DIR=${IMS_PG17_DIR:-/opt/postgresql-17}
IMS_PG18_DIR=${IMS_PG18_DIR:-/opt/postgresql-18}
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# pg_bindir VERSION: the bin directory of PostgreSQL VERSION (15 to 18).
pg_bindir() {
  case "$1" in
    15) echo /usr/lib/postgresql/15/bin ;;
    16) echo "$IMS_PG16_DIR/bin" ;;
    17) echo "$IMS_PG17_DIR/bin" ;;
    18) echo "$IMS_PG18_DIR/bin" ;;
    *) die "unsupported PostgreSQL version: $1 (use 15, 16, 17 or 18)" ;;
  esac
}

# as_postgres CMD...: run a command as the postgres OS user.
as_postgres() { runuser -u postgres -- "$@"; }

# install_extension VERSION [release|debug]: build and install into that PostgreSQL.
install_extension() {
  local v=$1 profile=${2:-release} flag=()
  [ "$profile" = debug ] && flag=(--debug)
  local buildlog="$REPO_ROOT/target/install-pg$v.log"
  log "building and installing ims_crawler for PostgreSQL $v ($profile; log: target/install-pg$v.log)"
  mkdir -p "$REPO_ROOT/target"
  if ! bash "$REPO_ROOT/scripts/install-extension.sh" --pg-config "$(pg_bindir "$v")/pg_config" "${flag[@]}" \
       >"$buildlog" 2>&1; then
    tail -n 40 "$buildlog" >&2
    return 1
  fi
}

# cluster_start VERSION DIR PORT [postgresql.conf lines...]: create (once) and
# start a cluster in DIR listening on PORT, with its socket in DIR/sock.
cluster_start() {
  local v=$1 dir=$2 port=$3; shift 3
  local bin; bin=$(pg_bindir "$v")
  mkdir -p "$dir"
  chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    as_postgres mkdir -p "$dir/sock"
    {
      echo "port = $port"
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$dir/sock'"
      echo "fsync = off"
      echo "shared_buffers = 256MB"
      for line in "$@"; do echo "$line"; done
    } | as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { tail -n 30 "$dir/server.log" >&2; die "PostgreSQL $v did not start (log: $dir/server.log)"; }
  fi
}

# cluster_stop DIR VERSION: stop the cluster in DIR if it runs.
cluster_stop() {
  local dir=$1 v=$2
  [ -f "$dir/data/PG_VERSION" ] || return 0
  as_postgres "$(pg_bindir "$v")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# psql_at VERSION DIR PORT [psql args...]: psql into that cluster as postgres.
psql_at() {
  local v=$1 dir=$2 port=$3; shift 3
  "$(pg_bindir "$v")/psql" -X -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$port" -U postgres "$@"
}
