#!/usr/bin/env bash
# Malformed input for every public function (a reduced count here; the full
# run, 1,000 per function, is `make reliability`): no crash, every rejection
# a clear ERROR with an SQLSTATE (none internal), nothing partially written.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
repo=$(cd "$(dirname "$0")/../.." && pwd)
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ims_fuzz" -c "CREATE DATABASE ims_fuzz"
psql -X -q -d ims_fuzz -c "CREATE EXTENSION ims_crawler"
python3 "$repo/tests/reliability/bad_input.py" "${IMS_FUZZ_N:-70}"
psql -X -q -d postgres -c "DROP DATABASE ims_fuzz"
