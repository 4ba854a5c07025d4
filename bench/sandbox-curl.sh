#!/usr/bin/env bash
# Full sequential export of the generated sandbox directory with plain curl:
# how fast the sandbox itself serves pages (the export tool is not involved).
#
#   bench/sandbox-curl.sh [USERS] [COUNT]      defaults: 1000000 users, count=1000
#
# Prints the startup time, rows, pages, seconds and rows/s. Needs curl.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${1:-1000000}
COUNT=${2:-1000}
PORT=${PORT:-$((20000 + RANDOM % 20000))}
TOKEN=bench-token
LOG=$(mktemp)
SERVER_PID=

cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -f "$LOG"
}
trap cleanup EXIT

now() { date +%s.%N; }

t0=$(now)
node --import tsx bin/scim-etl.ts sandbox --users "$USERS" --groups 10 --port "$PORT" --token "$TOKEN" >"$LOG" 2>&1 &
SERVER_PID=$!
until grep -q 'server:' "$LOG"; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$LOG" >&2; exit 1; fi
  sleep 0.2
done
t1=$(now)
BASE="http://127.0.0.1:$PORT/v2/Users"
echo "sandbox with $USERS users ready in $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f') s"

rows=0
pages=0
bytes=0
start=1
total=-1
t2=$(now)
PAGE=$(mktemp)
while :; do
  size=$(curl -sS --fail -o "$PAGE" -w '%{size_download}' -H "Authorization: Bearer $TOKEN" "$BASE?startIndex=$start&count=$COUNT")
  # The list header comes first: no need to parse a megabyte of JSON to page.
  head=$(head -c 400 "$PAGE")
  n=$(grep -o '"itemsPerPage":[0-9]*' <<<"$head" | cut -d: -f2)
  if [[ $total -lt 0 ]]; then total=$(grep -o '"totalResults":[0-9]*' <<<"$head" | cut -d: -f2); fi
  pages=$((pages + 1))
  bytes=$((bytes + size))
  [[ "$n" -gt 0 ]] || break
  rows=$((rows + n))
  start=$((start + n))
  [[ $start -le $total ]] || break
done
rm -f "$PAGE"
t3=$(now)
secs=$(echo "$t3 - $t2" | bc -l)
printf 'rows=%d pages=%d bytes=%d seconds=%.1f rows/s=%.0f\n' "$rows" "$pages" "$bytes" "$secs" "$(echo "$rows / $secs" | bc -l)"
[[ $rows -eq $total ]] || { echo "expected $total rows, got $rows" >&2; exit 1; }
