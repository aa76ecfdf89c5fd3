#!/usr/bin/env bash
# Installs, idempotently, every tool the portal needs to build, run and test on a fresh machine
# of this kind (see shared/reference/toolchain.md for why each choice).
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${CONSENT_PORTAL_TOOLS:-$HOME/.local/share/consent-portal/tools}"
mkdir -p "$TOOLS"
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '\033[1m[install]\033[0m %s\n' "$*" >&2; }

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
  esac
done

# 1. wasm target for the hydrate bundle.
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. cargo-leptos 0.3.10 (0.3.11 needs a newer rustc than this machine has).
if ! cargo leptos --version 2>/dev/null | grep -q '0.3.10'; then
  log "installing cargo-leptos 0.3.10 (about 11 minutes on 2 cores, once)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi

# 3. wasm-bindgen CLI, exactly the version in Cargo.lock (cargo-leptos would otherwise download it).
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  log "installing wasm-bindgen-cli $wb_version"
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

# 4. wasm-opt from the npm package binaryen (Debian's is too old and breaks hydration).
if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then
  log "installing wasm-opt (npm binaryen@132)"
  (cd "$TOOLS" && npm install --no-audit --no-fund --silent binaryen@132)
fi

# 4b. cargo-deny 0.20.2 for the dependency policy in deny.toml (run by scripts/test.sh).
if ! cargo deny --version 2>/dev/null | grep -q '0.20.2'; then
  log "installing cargo-deny 0.20.2 (about 4 minutes on 2 cores, once)"
  cargo install cargo-deny --version 0.20.2 --locked
fi

# 4c. Python test peers from PyPI, in a virtualenv of their own: schemathesis checks the
# integration API against its OpenAPI document (scripts/api-check.sh).
py="$TOOLS/python"
if ! "$py/bin/schemathesis" --version 2>/dev/null | grep -q '4.32.5'; then
  log "installing schemathesis 4.32.5 (PyPI)"
  python3 -m venv "$py"
  "$py/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi

# 4d. standardwebhooks 1.3.0 (PyPI), the Standard Webhooks specification's own Python library:
#     the webhook tests verify the portal's signatures with it, an implementation independent of ours.
if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("standardwebhooks") != "1.3.0")' 2>/dev/null; then
  log "installing the Python package standardwebhooks 1.3.0 (webhook signature tests)"
  python3 -m pip install --quiet 'standardwebhooks==1.3.0'
fi

if [ "$want_browser" = 1 ]; then
  # 5. Chromium from Debian.
  if [ ! -x /usr/bin/chromium ]; then
    log "installing chromium (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  fi
  # 6. The Playwright driver for playwright-rs: playwright-core + a node symlink beside it.
  driver="$TOOLS/playwright-driver"
  if [ ! -f "$driver/package/cli.js" ]; then
    log "installing the Playwright driver (playwright-core 1.64.0)"
    rm -rf "$driver" && mkdir -p "$driver"
    (cd "$driver" && npm pack --silent playwright-core@1.64.0 >/dev/null && tar xzf playwright-core-1.64.0.tgz && rm playwright-core-1.64.0.tgz)
    ln -sf "$(command -v node)" "$driver/node"
  fi
fi

log "tools ready in $TOOLS"
