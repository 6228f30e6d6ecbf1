#!/usr/bin/env bash
# Generates a client from ../../openapi.yaml with each generator teams use
# and checks that it compiles: openapi-typescript and @hey-api/openapi-ts
# (tsc, strict), oapi-codegen and ogen (go build, go vet). Every generator
# is pinned: the npm ones in package-lock.json, the Go ones as tools of this
# directory's own module (go.mod), so none reaches Pinion's go.mod.
# The output goes to out/ (ignored); a fixed path keeps Go's build cache
# warm between runs. `make clientgen` runs this, and `make test` runs that.
set -euo pipefail
cd "$(dirname "$0")"
spec=../../openapi.yaml
out=out

rm -rf "$out"
mkdir -p "$out"

# step NAME CMD...: runs CMD with its output kept in out/NAME.log, shown
# only when it fails (the generators warn a lot about things that are fine).
step() {
  local name=$1
  shift
  local start=$SECONDS
  if ! "$@" >"$out/$name.log" 2>&1; then
    cat "$out/$name.log"
    echo "clientgen: $name failed (openapi.yaml does not serve this generator)" >&2
    exit 1
  fi
  echo "clientgen: $name ok ($((SECONDS - start)) s)"
}

bin=node_modules/.bin
step openapi-typescript "$bin/openapi-typescript" "$spec" -o "$out/ts/openapi-typescript/schema.d.ts"
step hey-api "$bin/openapi-ts" -i "$spec" -o "$out/ts/hey-api"
step tsc "$bin/tsc" -p tsconfig.json

mkdir -p "$out/oapi-codegen"
step oapi-codegen go tool oapi-codegen -generate types,client -package client -o "$out/oapi-codegen/client.gen.go" "$spec"
step ogen go tool ogen -config ogen.yml -target "$out/ogen" -package client -clean "$spec"
# The switches in ogen.yml may cost exactly one operation: GET /openapi.yaml.
skipped=$(grep -c 'Skipping operation' "$out/ogen.log" || true)
if [ "$skipped" != 1 ] || ! grep 'Skipping operation' "$out/ogen.log" | grep -q 'application/yaml'; then
  grep 'Skipping operation' "$out/ogen.log" || true
  echo "clientgen: ogen skipped $skipped operations; only GET /openapi.yaml (application/yaml) may be skipped" >&2
  exit 1
fi
step go-build go build "./$out/..."
step go-vet go vet "./$out/..."
