#!/usr/bin/env bash
# Installs whatever is missing, then runs every test: unit, services on SQLite and PostgreSQL,
# router, sandbox, and the browser journeys in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-tools.sh --browser
source scripts/env.sh

# The advisory check is left out: it needs the RustSec database from GitHub (see deny.toml).
echo "[test] dependency policy (cargo deny: bans, licenses, sources)" >&2
cargo deny --log-level error --locked check bans licenses sources

# PostgreSQL: the machine's server (127.0.0.1:5432, trust auth, database `test`).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "[test] starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

start=$(date +%s)
echo "[test] unit, service (SQLite + PostgreSQL), router and sandbox tests" >&2
# The default members (app, server, migrations): `--workspace` would also build `frontend`,
# whose `hydrate` feature must never be unified into the server build.
cargo test --locked

echo "[test] building the site for the browser journeys" >&2
# `cargo test` links the same binary path with the test build's unified dependency features; when
# cargo-leptos then finds its own build fresh it leaves that binary in place, and its pages do not
# hydrate with this site's wasm. Touching the binary's root makes cargo-leptos relink it (seconds).
touch server/src/main.rs
cargo leptos build
# The debug wasm is large: a quick brotli level proves the precompressed path in the journeys.
"${CARGO_TARGET_DIR:-target}/debug/consent-portal" precompress --site-root target/site --quality 5

echo "[test] load check: every page, every role, against the real binary (no response may hang)" >&2
python3 scripts/load-check.py --binary "${CARGO_TARGET_DIR:-target}/debug/consent-portal" --site-root target/site \
  --requests 3000 --concurrency 32 --timeout 20

echo "[test] the integration API against its OpenAPI document (schemathesis)" >&2
./scripts/api-check.sh "${CARGO_TARGET_DIR:-target}/debug/consent-portal"

echo "[test] browser journeys (headless Chromium)" >&2
cargo test -p end2end --locked -- --test-threads=1

echo "[test] all tests passed in $(( $(date +%s) - start )) s" >&2
