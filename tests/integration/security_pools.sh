#!/usr/bin/env bash
# End users sharing pooled connections must never see or write each other's
# rows. Twenty end users, each a client thread, use one trusted application
# login (a member of ims_app with a users row of role 'app'):
#   1. through pgbouncer (Debian package) in transaction pooling mode with a
#      pool of 2 server connections;
#   2. through a psycopg_pool ConnectionPool of 2 connections, straight to
#      PostgreSQL.
# Each asserts its identity and works in one transaction (the documented
# pattern), and between requests runs statements without asserting, which
# must act as nobody; see lib/pool_clients.py.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
here=$(cd "$(dirname "$0")" && pwd)
db=ims_pools
users=${IMS_POOL_USERS:-20}
rounds=${IMS_POOL_ROUNDS:-25}
work=$(mktemp -d)
chown postgres: "$work"
bouncer_port=$((PGPORT + 1000))
cleanup() {
  [ -f "$work/pgbouncer.pid" ] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" -c "DROP ROLE IF EXISTS ims_it_pool"
q -d $db -o /dev/null <<SQL
CREATE EXTENSION ims_crawler;
CREATE ROLE ims_it_pool LOGIN IN ROLE ims_app;
INSERT INTO ims.users (username, role, db_role) VALUES ('crawler_pool', 'app', 'ims_it_pool');
INSERT INTO ims.users (user_id, username, role)
SELECT u, 'user' || u, 'user' FROM generate_series(1001, 1000 + $users) AS u;
SELECT ims.start_session('OpenFrame', user_id => u) FROM generate_series(1001, 1000 + $users) AS u;
SQL

# 1. pgbouncer, transaction pooling, 2 server connections for everyone.
cat >"$work/pgbouncer.ini" <<INI
[databases]
$db = host=$PGHOST port=$PGPORT dbname=$db
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/users.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 200
pidfile = $work/pgbouncer.pid
logfile = $work/pgbouncer.log
INI
printf '"ims_it_pool" ""\n"postgres" ""\n' >"$work/users.txt"
chown postgres: "$work"/*
runuser -u postgres -- /usr/sbin/pgbouncer -d "$work/pgbouncer.ini"
for _ in $(seq 50); do
  psql -X -q -h 127.0.0.1 -p $bouncer_port -U ims_it_pool -d $db -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.1
done
python3 "$here/lib/pool_clients.py" bouncer "host=127.0.0.1 port=$bouncer_port dbname=$db user=ims_it_pool" "$users" "$rounds"
servers=$(psql -X -At -d $db -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'ims_it_pool'")
echo "pgbouncer: $servers server connections of ims_it_pool open at the end (pool size 2)"
[ "$servers" -le 2 ] || { echo "FAIL: pgbouncer opened more than 2 server connections"; exit 1; }

# 2. psycopg_pool straight to PostgreSQL, 2 connections.
q -d $db -c "DELETE FROM ims.session_errors WHERE error_type = 'pool-test'"
python3 "$here/lib/pool_clients.py" pool "host=$PGHOST port=$PGPORT dbname=$db user=ims_it_pool" "$users" "$rounds"

kill "$(cat "$work/pgbouncer.pid")"; rm -f "$work/pgbouncer.pid"
q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE ims_it_pool"
