# Sourced by the scripts: where the installed tools live and how to reach them.
TOOLS="${CONSENT_PORTAL_TOOLS:-$HOME/.local/share/consent-portal/tools}"
export PATH="$TOOLS/python/bin:$TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export PLAYWRIGHT_DRIVER_PATH="${PLAYWRIGHT_DRIVER_PATH:-$TOOLS/playwright-driver}"
export PLAYWRIGHT_SKIP_DRIVER_DOWNLOAD=1
