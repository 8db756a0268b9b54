#!/usr/bin/env bash
# The Dockerfile's steps, which cannot run here (no Docker engine): package
# the extension with scripts/install-extension.sh --package, check the tree
# the image copies, and run the image's init script against a fresh database.
set -euo pipefail
[ "$IMS_PG_VERSION" = 16 ] || { echo "docker image steps: PostgreSQL 16 only (the image's version), skipped"; exit 0; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
out="$repo/target/docker-package"
rm -rf "$out"
bash "$repo/scripts/install-extension.sh" --pg-config "$IMS_PG_BIN/pg_config" --debug --package "$out" >/dev/null 2>&1
for f in ims_crawler.so ims_crawler.control "ims_crawler--$(grep -m1 '^version' "$repo/Cargo.toml" | cut -d'"' -f2).sql"; do
  found=$(find "$out" -name "$f" | head -n 1)
  [ -n "$found" ] || { echo "FAIL: package lacks $f"; exit 1; }
done
export PATH="$IMS_PG_BIN:$PATH"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS docker_init" -c "CREATE DATABASE docker_init"
POSTGRES_USER=$PGUSER POSTGRES_DB=docker_init bash "$repo/docker/initdb/10-ims-crawler.sh" >/dev/null
n=$(psql -X -At -d docker_init -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'ims.crawl_sessions'::regclass")
[ "$n" -ge 5 ] || { echo "FAIL: expected DEFAULT + 4 monthly partitions, found $n"; exit 1; }
psql -X -q -d postgres -c "DROP DATABASE docker_init"
echo "docker image steps: package and init script OK ($n partitions)"
