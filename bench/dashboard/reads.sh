#!/usr/bin/env bash
# reads.sh BASE SECONDS: snapshot reads and rejected writes against a Pinion
# at BASE (e.g. http://127.0.0.1:28080) for SECONDS, so that the dashboard's
# panels the soak load leaves empty (snapshot reads 200 vs 304, validation
# failures) have data: each second, 2 reads without and 8 with
# If-None-Match (304 while the revision holds), one write every 5 s (so
# the ETag moves and reads answer 200 again), and one write that fails
# validation every 5 s (422). With FRESHNESS=1 (the server needs
# -client-freshness) it also reports each of its writes' revisions to
# POST /api/freshness as applied at once, so the freshness panel has data:
# that measures commit -> answer -> report by curl, not a browser tab.
# Bounded by SECONDS; curl only.
set -euo pipefail
base=${1:?base URL}; secs=${2:?seconds}
jar=$(mktemp); trap 'rm -f "$jar"' EXIT
url=$base/api/topics/app-settings
etag() { curl -s -c "$jar" -b "$jar" -D - -o /dev/null "$url" | tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}'; }
end=$((SECONDS + secs)); i=0
while ((SECONDS < end)); do
  tag=$(etag)
  curl -s -b "$jar" -o /dev/null "$url"
  for _ in 1 2 3 4 5 6 7 8; do curl -s -b "$jar" -o /dev/null -H "If-None-Match: $tag" "$url"; done
  if ((i % 5 == 0)); then
    rev=$(curl -s -b "$jar" -X PATCH -H 'Content-Type: application/merge-patch+json' -H 'X-Source-Id: reads' \
      -d "{\"fontSize\":$((10 + i % 20))}" "$url" | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')
    if [[ ${FRESHNESS:-} == 1 && -n $rev ]]; then
      curl -s -b "$jar" -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d "{\"samples\":[{\"topic\":\"app-settings\",\"revision\":\"$rev\",\"appliedAgoMs\":0}]}" "$base/api/freshness"
    fi
    curl -s -b "$jar" -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' -H 'X-Source-Id: reads' \
      -d '{"fontSize":"huge"}' "$url"
  fi
  i=$((i + 1)); sleep 1
done
