#!/usr/bin/env bash
# Command two of the demo: stop the demo cluster and remove .demo/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
V=${IMS_DEMO_PG_VERSION:-16}
cluster_stop "$REPO_ROOT/.demo/pg$V" "$V"
rm -rf "$REPO_ROOT/.demo"
log "demo stopped and removed"
