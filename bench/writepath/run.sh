#!/usr/bin/env bash
# Write- and read-path benchmark, everything side by side in one run:
#   - durable PUT app-settings with 1 and with 64 connections;
#   - snapshot GET (200) and GET with a matching If-None-Match (304), 64
#     connections, against bench/echoref (a bare Echo v4 route serving the
#     same snapshot with its ETag) measured right before each.
# Each binary gets a fresh data directory on the real disk (not tmpfs:
# fsync must cost what it costs).
#
# usage: bench/writepath/run.sh label=/path/to/pinion [label=/path/to/pinion ...]
#   env: DUR (wrk duration per measurement, default 10s)
# needs: wrk (apt-get install wrk), curl, go
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10s}
WORK=$(mktemp -d "${PWD}/.bench-writepath.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

go build -o "$WORK/echoref" ./bench/echoref
cat > "$WORK/put.lua" <<'LUA'
wrk.method = "PUT"
wrk.body = '{"theme":"dark","language":"en","fontSize":14}'
wrk.headers["Content-Type"] = "application/json"
LUA

port=18300
# measure NAME CONNS URL [wrk args...]: one wrk run, one result line.
measure() {
  local name=$1 conns=$2 url=$3; shift 3
  local out
  out=$(wrk -t"$(( conns < 2 ? 1 : 2 ))" -c"$conns" -d"$DUR" --latency "$@" "$url")
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx/ {print $5}' <<<"$out")
  printf '%-34s %6s conns %12s req/s   p50 %9s   p99 %9s   %s\n' "$name" "$conns" "$rps" "$p50" "$p99" "${non2xx:+non-2xx/3xx: $non2xx}"
}

start_pinion() { # label bin -> sets BASE
  local label=$1 bin=$2 extra=()
  port=$((port+1))
  mkdir -p "$WORK/$label"
  # Newer builds limit write rates per client; a load test is one client.
  if "$bin" -h 2>&1 | grep -q rate-per-principal; then
    extra=(-rate-per-principal 0 -rate-per-address 0 -new-principals-per-address 0)
  fi
  "$bin" -addr "127.0.0.1:$port" -data "$WORK/$label/data" -no-app -log-level warn "${extra[@]}" >"$WORK/$label/log" 2>&1 &
  PIDS+=($!)
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do curl -sf "$BASE/healthz" >/dev/null && return; sleep 0.1; done
  echo "$label did not start: $(cat "$WORK/$label/log")" >&2; exit 1
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t2 -d$DUR"
for arg in "$@"; do
  label=${arg%%=*} bin=${arg#*=}
  start_pinion "$label" "$bin"
  jar="$WORK/$label/jar"
  curl -sf -c "$jar" -o /dev/null "$BASE/api/topics/app-settings"
  cookie=$(awk '!/^#/ && NF>=7 {print $6"="$7}' "$jar" | head -1)
  measure "$label PUT" 1 "$BASE/api/topics/app-settings" -s "$WORK/put.lua" -H "Cookie: $cookie"
  measure "$label PUT" 64 "$BASE/api/topics/app-settings" -s "$WORK/put.lua" -H "Cookie: $cookie"

  # The snapshot as it now is; the reference serves the same bytes.
  curl -sf -D "$WORK/$label/headers" -o "$WORK/$label/body" -H "Cookie: $cookie" "$BASE/api/topics/app-settings"
  etag=$(awk 'tolower($1)=="etag:" {print $2}' "$WORK/$label/headers" | tr -d '\r')
  port=$((port+1))
  "$WORK/echoref" -addr "127.0.0.1:$port" -body "$WORK/$label/body" -etag "$etag" &
  PIDS+=($!)
  REF="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$REF/api/topics/app-settings" && break; sleep 0.1; done
  measure "echoref GET 200" 64 "$REF/api/topics/app-settings" -H "Cookie: $cookie"
  measure "$label GET 200" 64 "$BASE/api/topics/app-settings" -H "Cookie: $cookie"
  measure "echoref GET 304" 64 "$REF/api/topics/app-settings" -H "Cookie: $cookie" -H "If-None-Match: $etag"
  measure "$label GET 304" 64 "$BASE/api/topics/app-settings" -H "Cookie: $cookie" -H "If-None-Match: $etag"
done
