#!/usr/bin/env bash
# A short version of `make reliability`: 10 s of the 16-client stress run,
# and 2 rounds of SIGKILL under load (the full run: 60 s and 10 rounds).
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
repo=$(cd "$(dirname "$0")/../.." && pwd)
bash "$repo/tests/reliability/stress.sh" 10
bash "$repo/tests/reliability/crash.sh" "$IMS_PG_VERSION" 2
