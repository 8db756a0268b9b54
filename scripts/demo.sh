#!/usr/bin/env bash
# Command one: install what is missing, build and install ims_crawler into
# PostgreSQL 16, start a throwaway cluster under .demo/ (own port and socket,
# owned by `postgres`), create the extension, load sample data and show a
# short tour. Safe to run again: the demo database is rebuilt each time.
# Stop and remove it with scripts/demo-stop.sh (`make demo-stop`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

V=${IMS_DEMO_PG_VERSION:-16}
PORT=${IMS_DEMO_PORT:-55432}
DIR="$REPO_ROOT/.demo/pg$V"
DB=ims_demo

bash "$REPO_ROOT/scripts/install-deps.sh"
install_extension "$V" release
log "starting PostgreSQL $V in $DIR (port $PORT)"
cluster_start "$V" "$DIR" "$PORT"

psql_demo() { psql_at "$V" "$DIR" "$PORT" "$@"; }
psql_demo -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql_demo -q -d "$DB" -c "CREATE EXTENSION ims_crawler"
log "loading sample data"
psql_demo -q -d "$DB" -f "$REPO_ROOT/examples/sample_data.sql" >/dev/null
log "tour"
psql_demo -d "$DB" -f "$REPO_ROOT/examples/tour.sql"

cat <<EOF

The demo is running. Connect with:

  $(pg_bindir "$V")/psql -h $DIR/sock -p $PORT -U postgres $DB

(or over TCP: psql -h 127.0.0.1 -p $PORT -U postgres $DB)
Stop and remove it with: make demo-stop
EOF
