#!/usr/bin/env bash
# Runs once, when the postgres image initialises an empty data directory:
# installs ims_crawler into $POSTGRES_DB and creates its monthly partitions.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE EXTENSION IF NOT EXISTS ims_crawler;
SELECT count(*) AS partitions_created FROM ims.ensure_partitions(3);
-- With pg_cron in the image (shared_preload_libraries), schedule maintenance.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron')
       AND current_setting('shared_preload_libraries') LIKE '%pg_cron%' THEN
        CREATE EXTENSION IF NOT EXISTS pg_cron;
        PERFORM ims.schedule_maintenance();
    END IF;
END $$;
SQL
