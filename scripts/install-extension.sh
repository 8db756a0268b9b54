#!/usr/bin/env bash
# Build ims_crawler for one PostgreSQL and install it there (default), or
# package it into a directory tree (--package DIR) as the Dockerfile does.
#   scripts/install-extension.sh --pg-config PATH [--debug] [--package DIR]
# Needs a Rust toolchain; installs cargo-pgrx 0.18.1 when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
PGRX_VERSION=0.18.1

pg_config="" debug=0 package=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pg-config) pg_config=$2; shift 2 ;;
    --debug) debug=1; shift ;;
    --package) package=$2; shift 2 ;;
    *) echo "usage: $0 --pg-config PATH [--debug] [--package DIR]" >&2; exit 2 ;;
  esac
done
[ -x "$pg_config" ] || { echo "error: --pg-config must name an executable pg_config" >&2; exit 2; }
major=$("$pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')

if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi
if ! grep -qs "pg$major = \"$pg_config\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
  # pgrx must know this PostgreSQL (scripts/install-deps.sh registers 15 and
  # 16 together; this is for a machine with only this one, like the image).
  cargo pgrx init "--pg$major" "$pg_config"
fi
common=(--no-default-features --features "pg$major" --pg-config "$pg_config")
if [ -n "$package" ]; then
  [ $debug = 1 ] && common+=(--debug)
  cargo pgrx package "${common[@]}" --out-dir "$package"
else
  [ $debug = 0 ] && common+=(--release)
  cargo pgrx install "${common[@]}"
fi
