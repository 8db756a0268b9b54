#!/usr/bin/env bash
# ims.schedule_maintenance with pg_cron (Debian's postgresql-15-cron; the
# PostgreSQL 15 test cluster preloads it with cron.database_name = ims_cron):
# registers each job once however often it runs, every job's command
# succeeds when run, unschedule removes them.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
if [ "$IMS_PG_VERSION" != 15 ]; then
  echo "scheduling: pg_cron is packaged here for PostgreSQL 15 only; skipped on $IMS_PG_VERSION"
  exit 0
fi
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ims_cron WITH (FORCE)" -c "CREATE DATABASE ims_cron"
q -d ims_cron -o /dev/null <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION ims_crawler;
INSERT INTO ims.users (user_id, username, role) VALUES (1, 'kim', 'user');
INSERT INTO ims.crawl_sessions (user_id, started_at, status, finished_at)
VALUES (1, now() - interval '1 day', 'completed', now() - interval '23 hours');
SELECT * FROM ims.schedule_maintenance();
SELECT * FROM ims.schedule_maintenance(90);
SQL
q -d ims_cron -At <<'SQL' >/tmp/ims_cron_check.txt
SELECT jobname || ' ' || count(*) || ' ' || min(database) || ' ' || min(schedule)
  FROM cron.job WHERE jobname LIKE 'ims\_%' GROUP BY jobname ORDER BY jobname;
SQL
cat /tmp/ims_cron_check.txt
[ "$(wc -l </tmp/ims_cron_check.txt)" -eq 6 ] || { echo "FAIL: expected 6 jobs"; exit 1; }
if grep -v ' 1 ims_cron ' /tmp/ims_cron_check.txt; then echo "FAIL: a job is duplicated or in the wrong database"; exit 1; fi
grep -q "delete_old_sessions(NULL::bigint, 90)" <(q -d ims_cron -At -c "SELECT command FROM cron.job WHERE jobname = 'ims_retention'") \
  || { echo "FAIL: re-scheduling did not replace the retention job"; exit 1; }
# Every registered command runs.
q -d ims_cron -o /dev/null <<'SQL'
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT jobname, command FROM cron.job WHERE jobname LIKE 'ims\_%' ORDER BY jobname LOOP
        EXECUTE r.command;
        RAISE NOTICE 'ran %', r.jobname;
    END LOOP;
END $$;
SQL
q -d ims_cron -At -c "SELECT count(*) FROM ims.analytics_daily" | grep -qx 1 || { echo "FAIL: the daily job did not aggregate"; exit 1; }
n=$(q -d ims_cron -At -c "SELECT ims.unschedule_maintenance()")
left=$(q -d ims_cron -At -c "SELECT count(*) FROM cron.job WHERE jobname LIKE 'ims\_%'")
[ "$n" = 6 ] && [ "$left" = 0 ] || { echo "FAIL: unschedule removed $n, left $left"; exit 1; }
q -d postgres -c "DROP DATABASE ims_cron WITH (FORCE)"
echo "scheduling: 6 jobs registered once each, all ran, all removed"
