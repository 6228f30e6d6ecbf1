#!/usr/bin/env bash
# screenshot.sh OUT.png PANELS [PROMETHEUS] [RANGE]: a PNG of Prometheus's
# graph page drawing the dashboard's own queries for PANELS (panel ids of
# docs/grafana-dashboard.json, "8.A" for one target), one graph each, over
# RANGE (30m), taken by headless Chromium. Run from the repository root.
set -euo pipefail
out=${1:?out.png} panels=${2:?panel ids} prom=${3:-http://127.0.0.1:9099} range=${4:-30m}
url=$(go run ./bench/dashboard -prometheus "$prom" -graph-url "$panels" -range "$range")
graphs=$(grep -o 'g[0-9]*\.expr=' <<<"$url" | wc -l)
# About 700 px per graph at this width, after the page header.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size=1400,$((120 + 700 * graphs)) --virtual-time-budget=20000 \
  --screenshot="$out" "$url" 2>/dev/null
