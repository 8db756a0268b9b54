#!/usr/bin/env bash
# The Python client (clients/python) installed with pip from the repository
# and tested with pytest against this PostgreSQL: every helper, errors with
# their SQLSTATE, identity per transaction, 20 end users sharing a pool of 2,
# SQLAlchemy; then the example crawler runs.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
repo=$(cd "$(dirname "$0")/../.." && pwd)
db=ims_python
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
  -c "DROP ROLE IF EXISTS ims_py_pool"
q -d $db -o /dev/null <<'SQL'
CREATE EXTENSION ims_crawler;
CREATE ROLE ims_py_pool LOGIN IN ROLE ims_app;
INSERT INTO ims.users (user_id, username, role) VALUES (1, 'py_admin', 'admin');
INSERT INTO ims.users (user_id, username, role) SELECT u, 'py_user' || u, 'user' FROM generate_series(2, 21) u;
INSERT INTO ims.users (user_id, username, role, db_role) VALUES (100, 'py_pool', 'app', 'ims_py_pool');
SQL

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Installed from a copy: pip builds in the source folder.
cp -r "$repo/clients/python" "$work/client"
python3 -m pip install --quiet --no-deps --force-reinstall "$work/client" 2>&1 | grep -v "Running pip as the 'root' user" || true
# Run from elsewhere so that the installed package, not the source folder, is imported.
cd "$work"
export IMS_TEST_DSN="host=$PGHOST port=$PGPORT dbname=$db user=postgres"
export IMS_TEST_POOL_DSN="host=$PGHOST port=$PGPORT dbname=$db user=ims_py_pool"
python3 -m pytest -q -p no:cacheprovider "$repo/clients/python/tests"
DATABASE_URL="$IMS_TEST_POOL_DSN" IMS_USER_ID=2 python3 "$repo/clients/python/examples/crawler.py"
q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE ims_py_pool"
