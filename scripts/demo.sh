#!/usr/bin/env bash
# Installs whatever is missing, builds the portal (release) and runs it with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-tools.sh
source scripts/env.sh
cargo leptos build --release
"${CARGO_TARGET_DIR:-target}/release/consent-portal" precompress --site-root target/site
PORTAL_SITE_ROOT="${PORTAL_SITE_ROOT:-target/site}" exec "${CARGO_TARGET_DIR:-target}/release/consent-portal" demo
