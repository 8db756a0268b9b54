#!/usr/bin/env bash
# Crashes: upserting clients run against a cluster of its own; the
# postmaster is killed with SIGKILL mid-load and restarted (crash recovery),
# ROUNDS times. After each round: every upsert a client saw succeed is
# there, no duplicate keys, amcheck's bt_index_check is clean on every ims
# B-tree index, and the extension still works.
#   crash.sh VERSION [ROUNDS]   (run as root; uses scripts/lib.sh)
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
V=$1
ROUNDS=${2:-10}
CLIENTS=6
dir="$REPO_ROOT/target/crash-pg$V"
port=$((56500 + V))
bin=$(pg_bindir "$V")
work=$(mktemp -d)
trap 'rm -rf "$work"; cluster_stop "$dir" "$V"' EXIT
cluster_stop "$dir" "$V"
rm -rf "$dir"
cluster_start "$V" "$dir" "$port"
q() { psql_at "$V" "$dir" "$port" -q "$@"; }
q -d postgres -c "CREATE DATABASE ims_crash"
q -d ims_crash -c "CREATE EXTENSION ims_crawler" -c "CREATE EXTENSION amcheck"

client() { # client N ROUND: upsert until the server goes away; log what was acknowledged
  local n=$1 r=$2 i=0
  while :; do
    i=$((i + 1))
    local id="K-$r-$n-$i"
    "$bin/psql" -X -q -At -h "$dir/sock" -p "$port" -U postgres -d ims_crash \
      -c "SELECT action FROM ims.upsert_issue('{\"issue_id\": \"$id\", \"title\": \"crash $i\", \"comments\": [{\"content\": \"c $i\"}]}')" \
      >/dev/null 2>&1 || return 0
    echo "$id" >>"$work/acked-$r-$n"
  done
}

for r in $(seq 1 "$ROUNDS"); do
  for n in $(seq 1 $CLIENTS); do client "$n" "$r" & done
  sleep "$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.1f", 1 + rand() * 2 }')"
  pm=$(head -n 1 "$dir/data/postmaster.pid")
  children=$(pgrep -P "$pm" || true)
  kill -9 "$pm"
  wait
  # The backends notice the postmaster is gone and exit; only then may a new
  # postmaster attach to the data directory. The killed postmaster may stay
  # a zombie (nothing reaps it here), so its lock files are cleared by hand.
  for c in $children; do
    while [ -e "/proc/$c" ] && ! grep -q '^State:.*Z' "/proc/$c/status" 2>/dev/null; do sleep 0.1; done
  done
  rm -f "$dir/data/postmaster.pid" "$dir/sock/.s.PGSQL.$port.lock" "$dir/sock/.s.PGSQL.$port"
  cluster_start "$V" "$dir" "$port"
  acked=$(cat "$work"/acked-"$r"-* 2>/dev/null | wc -l)
  cat "$work"/acked-"$r"-* 2>/dev/null | sed "s/.*/'&'/" | paste -sd, >"$work/ids"
  [ -s "$work/ids" ] || echo "''" >"$work/ids"
  result=$(q -d ims_crash -At <<SQL
SELECT (SELECT count(*) FROM ims.issues WHERE issue_id IN ($(cat "$work/ids")))
       || ' ' || (SELECT count(*) - count(DISTINCT issue_id) FROM ims.issues)
       || ' ' || (SELECT count(*) FROM (SELECT bt_index_check(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND c.relkind = 'i' AND c.relnamespace = 'ims'::regnamespace) x)
       || ' ' || (SELECT action FROM ims.upsert_issue('{"issue_id": "after-crash-$r"}'))
       || ' ' || (SELECT count(*) FROM ims.search_issues('crash'));
SQL
)
  read -r present dups checked action found <<<"$result"
  echo "round $r: $acked acknowledged, $present present, $dups duplicates, $checked indexes checked, upsert after restart: $action, search hits: $found"
  [ "$present" = "$acked" ] && [ "$dups" = 0 ] && [ "$action" = inserted ] \
    || { echo "FAIL: round $r lost acknowledged upserts or is inconsistent"; exit 1; }
done
echo "crashes: $ROUNDS rounds of SIGKILL under load, every acknowledged upsert kept, indexes clean"
