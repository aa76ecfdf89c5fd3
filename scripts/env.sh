# Sourced by the scripts: where the installed tools live and how to reach them.
TOOLS="${CONSENT_PORTAL_TOOLS:-$HOME/.local/share/consent-portal/tools}"
export PATH="$TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# schemathesis lives in its own virtualenv (the system python3 keeps the packages tests import).
export SCHEMATHESIS="$TOOLS/python/bin/schemathesis"
export PLAYWRIGHT_DRIVER_PATH="${PLAYWRIGHT_DRIVER_PATH:-$TOOLS/playwright-driver}"
export PLAYWRIGHT_SKIP_DRIVER_DOWNLOAD=1
