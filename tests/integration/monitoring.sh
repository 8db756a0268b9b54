#!/usr/bin/env bash
# monitoring/postgres_exporter.yaml: every query runs as a monitoring login
# in ims_readonly, returns the declared columns, and its gauges are numbers;
# a search backlog and a failing check show up in the metrics.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
repo=$(cd "$(dirname "$0")/../.." && pwd)
db=ims_monitoring
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
  -c "DROP ROLE IF EXISTS ims_it_monitor"
q -d $db -o /dev/null <<'SQL'
CREATE EXTENSION ims_crawler;
CREATE ROLE ims_it_monitor LOGIN IN ROLE ims_readonly;
INSERT INTO ims.users (user_id, username, role) VALUES (1, 'kim', 'user');
SELECT ims.start_session('OpenFrame', user_id => 1);
SELECT ims.upsert_issues('[{"issue_id": "M-1", "title": "a"}, {"issue_id": "M-2", "title": "b"}]');
SQL
python3 - "$repo/monitoring/postgres_exporter.yaml" "host=$PGHOST port=$PGPORT dbname=$db user=ims_it_monitor" <<'PY'
import sys
import psycopg
import yaml

queries = yaml.safe_load(open(sys.argv[1]))
metrics = {}
with psycopg.connect(sys.argv[2], autocommit=True) as conn:
    for name, spec in queries.items():
        cur = conn.execute(spec["query"])
        cols = [d.name for d in cur.description]
        declared = [next(iter(m)) for m in spec["metrics"]]
        assert cols == declared, f"{name}: columns {cols}, declared {declared}"
        rows = cur.fetchall()
        assert rows, f"{name} returned no rows"
        for row in rows:
            labels = {c: v for c, v, m in zip(cols, row, spec["metrics"]) if m[c]["usage"] == "LABEL"}
            for c, v, m in zip(cols, row, spec["metrics"]):
                if m[c]["usage"] == "GAUGE":
                    assert isinstance(v, (int, float)), f"{name}.{c} is {v!r}"
                    metrics[(f"{name}_{c}", tuple(sorted(labels.items())))] = v
pending = metrics[("ims_search_index_pending_issues", ())]
assert pending == 2, f"2 new issues should wait for the search index, got {pending}"
levels = {dict(k[1])["check_name"]: v for k, v in metrics.items() if k[0] == "ims_health_level"}
assert levels, "no health checks"
assert metrics[("ims_sessions_sessions", (("status", "running"),))] == 1
print(f"postgres_exporter queries: {len(queries)} queries, {len(metrics)} series as ims_readonly; "
      f"search backlog {pending}; health levels {sorted(set(levels.values()))}")
PY
q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE ims_it_monitor"
