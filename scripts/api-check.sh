#!/usr/bin/env bash
# Checks the integration API against its own OpenAPI document with schemathesis (PyPI): the demo
# portal (real binary, wired to its DocuSign sandbox, demo tenants) with an API key holding every
# scope; every operation is exercised with generated inputs, and every answer must be a non-5xx
# that matches its documented status, content type and schema.
# Usage: scripts/api-check.sh <path to the consent-portal binary>
set -euo pipefail
bin="${1:?usage: scripts/api-check.sh <consent-portal binary>}"
schemathesis="${SCHEMATHESIS:-schemathesis}"
command -v "$schemathesis" >/dev/null || { echo "schemathesis is missing: run scripts/install-tools.sh (and source scripts/env.sh)" >&2; exit 1; }
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PORTAL_DATA_DIR="$dir" PORTAL_LISTEN="127.0.0.1:$port" PORTAL_PUBLIC_URL="http://127.0.0.1:$port"
export PORTAL_SCHEDULER_TICK_SECONDS=0 PORTAL_API_RATE_LIMIT_PER_MINUTE=1000000 RUST_LOG=warn
unset DATABASE_URL
key="$("$bin" api-client add --name schemathesis --environments demo,production --scopes tenants:read,tokens:issue,consent:check 2>/dev/null)"
"$bin" demo >"$dir/portal.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$dir/portal.log" >&2; exit 1; }
# The slugs of the demo's tenants give the generator real ones to try beside random ones.
"$schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --phases examples,coverage,fuzzing --max-examples 40 --workers 2 --max-time 60 \
  --suppress-health-check all --no-color
