# Pinion's commands. `make test` is the one CI runs (through .ci/run).
SHELL := /bin/bash
GO    ?= go
NPM   ?= npm

.PHONY: all run test check-generated clientgen web openapi deps bench clean

all: test

# Run Pinion with the demo on the embedded store (same as `go run ./cmd/pinion`).
run:
	$(GO) run ./cmd/pinion

# Install what the tests need: Go modules and the npm packages of web/ and
# tools/clientgen (the client generators).
deps: web/node_modules/.package-lock.json tools/clientgen/node_modules/.package-lock.json
	$(GO) mod download

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	@touch $@

tools/clientgen/node_modules/.package-lock.json: tools/clientgen/package-lock.json
	cd tools/clientgen && $(NPM) ci --no-audit --no-fund
	@touch $@

# Everything: Go (with -race), the web unit tests, the client generators,
# and the checks that committed generated files are fresh.
test: deps
	$(GO) vet ./...
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) test -race -count=1 -timeout 20m ./...
	cd web && $(NPM) run typecheck && $(NPM) test
	cd web && $(NPM) run api:lint
	$(MAKE) clientgen
	$(MAKE) check-generated

# Regenerate openapi.yaml from the demo topics, and from it the TypeScript
# types the web client is typed with and the demo's topic map and default
# documents (web/demo/src/api/schema.d.ts and topics.gen.ts).
openapi: deps
	$(GO) run ./cmd/pinion openapi > openapi.yaml.tmp && mv openapi.yaml.tmp openapi.yaml
	cd web && $(NPM) run api:gen

# Rebuild the demo app into web/dist (committed, embedded by the binary).
web: deps
	cd web && $(NPM) run build

# Generates a client from openapi.yaml with openapi-typescript,
# @hey-api/openapi-ts, oapi-codegen and ogen (pinned in tools/clientgen)
# and fails unless each compiles. Nothing it writes is committed.
clientgen: deps
	tools/clientgen/check.sh

# Fails when a committed generated file differs from a fresh generation
# (openapi.yaml itself is checked by a Go test).
check-generated: deps
	cd web && $(NPM) run api:gen
	@git diff --exit-code --stat -- web/demo/src/api/schema.d.ts web/demo/src/api/topics.gen.ts || (echo "schema.d.ts or topics.gen.ts is stale: run 'make openapi' and commit them"; exit 1)
	@test -z "$$(git status --porcelain -- web/demo/src/api/topics.gen.ts)" || (echo "topics.gen.ts is not committed: run 'make openapi' and commit it"; exit 1)
	$(MAKE) web
	@git diff --exit-code --stat -- web/dist || (echo "web/dist is stale: run 'make web' and commit it"; exit 1)
	@test -z "$$(git status --porcelain --untracked-files=all -- web/dist)" || (git status --porcelain -- web/dist; echo "web/dist has uncommitted files: run 'make web' and commit it"; exit 1)

# Go benchmarks (numbers go to BENCHMARKS.md).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./store/... ./server/

clean:
	rm -rf data bin
