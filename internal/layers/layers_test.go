package layers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pinionkit/pinion"

// layer places a package of the module (path relative to the module root)
// in the dependency order: a package may import packages of its own layer
// or of higher-numbered layers, never of a lower one. A new package must be
// placed here, so that its direction is decided, not drifted into.
func layer(rel string) (int, bool) {
	// The schema compiler sits below the topic kit and the document that
	// use it: it turns Go types into JSON Schemas and asks about rules
	// through an interface, so it can know neither routes nor topics.
	if rel == "openapi/jsonschema" {
		return 4, true
	}
	top, _, _ := strings.Cut(rel, "/")
	switch top {
	case "cmd", "bench": // programs and harnesses: wire everything
		return 0, true
	case "server":
		return 1, true
	case "handlers":
		return 2, true
	case "stream", "openapi", "topic", "auth", "metrics", "demo":
		return 3, true
	case "store":
		return 4, true
	case "protocol", "internal", "web":
		return 5, true
	}
	return 0, false
}

// onlyIn lists imports (by path prefix) allowed only in packages under the
// given module directories.
var onlyIn = []struct {
	importPrefix string
	dirs         []string
}{
	// bench/echoref is the bare Echo route the snapshot benchmark measures
	// Pinion against (issue 10): a measuring stick, not part of Pinion.
	{"github.com/labstack/echo", []string{"server", "handlers", "bench/echoref"}},
	{"modernc.org/sqlite", []string{"store/sqlite"}},
	{"github.com/mattn/go-sqlite3", []string{"store/sqlite"}},
	{"github.com/jackc/pgx", []string{"store/postgres"}},
	{"github.com/lib/pq", []string{"store/postgres"}},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

// violations returns every import that goes against the rules above.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		rel, ok := relative(p.ImportPath)
		if !ok {
			continue
		}
		from, known := layer(rel)
		if !known {
			out = append(out, fmt.Sprintf("%s: not placed in a layer (internal/layers/layers_test.go)", rel))
			continue
		}
		for _, imp := range p.Imports {
			if to, ok := relative(imp); ok {
				if l, known := layer(to); known && l < from {
					out = append(out, fmt.Sprintf("%s (layer %d) imports %s (layer %d): dependencies point cmd → server → handlers → {stream, openapi, topic, auth} → {store, openapi/jsonschema}", rel, from, to, l))
				}
				continue
			}
			for _, rule := range onlyIn {
				if !strings.HasPrefix(imp, rule.importPrefix) {
					continue
				}
				if !slices.ContainsFunc(rule.dirs, func(d string) bool { return rel == d || strings.HasPrefix(rel, d+"/") }) {
					out = append(out, fmt.Sprintf("%s imports %s, which belongs only in %s", rel, imp, strings.Join(rule.dirs, " and ")))
				}
			}
		}
	}
	return out
}

func relative(importPath string) (string, bool) {
	if importPath == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(importPath, module+"/")
	return rel, ok
}

// TestDependencyDirection checks the module's real import graph (non-test
// imports, as `go list` reports them).
func TestDependencyDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...")
	cmd.Dir = "../.."
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("go list is not available: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(outPipe)
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// The checker itself must catch each kind of mistake.
func TestViolationsCatchMistakes(t *testing.T) {
	bad := []pkg{
		{ImportPath: module + "/topic", Imports: []string{module + "/handlers"}},
		{ImportPath: module + "/store", Imports: []string{module + "/stream"}},
		{ImportPath: module + "/stream", Imports: []string{"github.com/labstack/echo/v4"}},
		{ImportPath: module + "/handlers", Imports: []string{"modernc.org/sqlite"}},
		{ImportPath: module + "/store/memory", Imports: []string{"github.com/jackc/pgx/v5"}},
		{ImportPath: module + "/newthing", Imports: nil},
		{ImportPath: module + "/openapi/jsonschema", Imports: []string{module + "/topic"}},
	}
	got := violations(bad)
	if len(got) != len(bad) {
		t.Fatalf("found %d violations, want %d:\n%s", len(got), len(bad), strings.Join(got, "\n"))
	}
	good := []pkg{
		{ImportPath: module + "/cmd/pinion", Imports: []string{module + "/server", module + "/store/sqlite"}},
		{ImportPath: module + "/server", Imports: []string{module + "/handlers", "github.com/labstack/echo/v4/middleware"}},
		{ImportPath: module + "/openapi", Imports: []string{module + "/topic", module + "/protocol", module + "/openapi/jsonschema"}},
		{ImportPath: module + "/openapi/jsonschema", Imports: []string{module + "/internal/rules"}},
		{ImportPath: module + "/store/sqlite", Imports: []string{module + "/store", "modernc.org/sqlite"}},
		{ImportPath: module + "/store/postgres", Imports: []string{"github.com/jackc/pgx/v5/pgxpool"}},
	}
	if got := violations(good); len(got) > 0 {
		t.Errorf("false alarms:\n%s", strings.Join(got, "\n"))
	}
}
