#!/usr/bin/env bash
# Runs TM Forum's TMF622 v4 conformance test kit (CTK), unmodified, against a fresh demo orderhub.
#
#   ./dev conformance [CTK]     CTK: a checkout of github.com/tmforum-rand/CTK-TMF622-ProductOrdering
#                               (default: cloned into .conformance/ on first use)
#   CTK_DATABASE_URL=postgresql://…/empty_db ./dev conformance [CTK]    the same on PostgreSQL
#
# Needs git, node and npm (the kit runs its Postman collection with newman). It cannot run in CI, which
# reaches only the package registries; run it before changing the TMF622 API. Only config.json is
# written (the kit's own configuration: URL, headers, the POST example); the collection is untouched.
set -euo pipefail
cd "$(dirname "$0")/../.."
ctk=${1:-.conformance/CTK-TMF622-ProductOrdering}
port=${CTK_PORT:-8622}
if [ ! -d "$ctk" ]; then
  git clone --depth 1 https://github.com/tmforum-rand/CTK-TMF622-ProductOrdering "$ctk"
fi
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
ORDERHUB_DATABASE_URL="${CTK_DATABASE_URL:-sqlite:///$work/ctk.db}" .venv/bin/orderhub serve --demo --port "$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
token=$(curl -fs -X POST "http://127.0.0.1:$port/oauth2/token" -d grant_type=client_credentials \
  -d client_id=demo-channel-1 -d client_secret=demo-channel-1-secret | .venv/bin/python -c \
  'import json, sys; print(json.load(sys.stdin)["access_token"])')
.venv/bin/python conformance/tmf622/config.py "http://127.0.0.1:$port" "$token" >"$ctk/config.json"
(cd "$ctk/ctk" && npm install --no-audit --no-fund --silent && npm start)
.venv/bin/python - "$ctk/jsonResults.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["run"]
stats = run["stats"]
print(f"requests {stats['requests']['total']}, assertions {stats['assertions']['total']}, "
      f"failed {stats['assertions']['failed']}")
for failure in run["failures"]:
    print("FAILED:", failure["source"].get("name"), "-", failure["error"].get("message"))
sys.exit(1 if run["failures"] else 0)
PY
