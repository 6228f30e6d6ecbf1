#!/usr/bin/env bash
# Pinion's event stream against the bare net/http floor (bench/sseref),
# back to back in one run, with Pinion's load generator (bench/sseload).
# Usage: bench/compare.sh [streams] [writes] [src-ips]   (defaults 10000 20 1)
# Needs an open-file limit above streams + 100 (see BENCHMARKS.md).
set -euo pipefail
N=${1:-10000}
K=${2:-20}
SRC=${3:-1}
ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")/.."
BIN=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$BIN"' EXIT
go build -o "$BIN/pinion" ./cmd/pinion
go build -o "$BIN/sseref" ./bench/sseref
go build -o "$BIN/sseload" ./bench/sseload
SETTINGS='{"theme":"dark","language":"en","fontSize":16,"notifications":true,"compactMode":false,"reducedMotion":false}'
echo "# $(date -u +%FT%TZ) $(nproc) cores, nofile $(ulimit -n), commit $(git rev-parse --short HEAD), load: $(cut -d' ' -f1-3 /proc/loadavg)"

"$BIN/sseref" -addr 127.0.0.1:18090 2>/dev/null &
REF=$!
sleep 1
"$BIN/sseload" -n "$N" -k "$K" -src-ips "$SRC" -pid $REF -label bare \
  -sub http://127.0.0.1:18090/events -pub http://127.0.0.1:18090/publish -body "$SETTINGS"
kill $REF; wait $REF 2>/dev/null || true

"$BIN/pinion" -addr 127.0.0.1:18091 -data "$BIN/data" -no-app -log-level warn \
  -rate-per-principal 0 -rate-per-address 0 -new-principals-per-address 0 &
PIN=$!
sleep 2
"$BIN/sseload" -n "$N" -k "$K" -src-ips "$SRC" -pid $PIN -label pinion \
  -sub 'http://127.0.0.1:18091/api/events?topic=app-settings' \
  -pub http://127.0.0.1:18091/api/topics/app-settings -body "$SETTINGS"
kill $PIN; wait $PIN 2>/dev/null || true
