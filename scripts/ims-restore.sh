#!/usr/bin/env bash
# Restore a `pg_dump -Fc` of a database using ims_crawler (a convenience:
# plain `pg_restore -d DB DUMP` works too, see README "Backup and restore"):
#   scripts/ims-restore.sh DUMP_FILE DATABASE [more pg_restore options]
# It runs pg_restore (as a superuser: CREATE EXTENSION needs one) with a
# table-of-contents list that leaves out the index and key definitions of
# the crawl_sessions monthly partitions: the partitions' parent belongs to
# the extension, so attaching a restored partition already creates them,
# and pg_restore would otherwise stop on "already exists" for each.
# Everything else is restored as dumped. Use one connection (no -j): the
# extension turns the restore session's foreign-key and trigger checks off
# while the data loads (see README "Backup and restore").
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DUMP_FILE DATABASE [pg_restore options]" >&2; exit 2; }
dump=$1 db=$2
shift 2
list=$(mktemp)
trap 'rm -f "$list"' EXIT
pg_restore -l "$dump" \
  | grep -vE ' (CONSTRAINT|INDEX|INDEX ATTACH) [^ ]+ crawl_sessions_[0-9]{4}_[0-9]{2}( |_)' >"$list"
pg_restore -L "$list" -d "$db" --exit-on-error "$@" "$dump"
