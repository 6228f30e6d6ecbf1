package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestDistServesTheApp(t *testing.T) {
	index, err := fs.ReadFile(Dist(), "index.html")
	if err != nil {
		t.Fatalf("read index.html from Dist(): %v (run `npm ci && npm run build` in web/)", err)
	}
	if !bytes.Contains(index, []byte(`<div id="app">`)) {
		t.Errorf("index.html has no app mount point:\n%s", index)
	}
	assets, err := fs.Glob(Dist(), "assets/index-*.js")
	if err != nil || len(assets) != 1 {
		t.Fatalf("want one entry script under assets/, got %v (err %v)", assets, err)
	}
	if !bytes.Contains(index, []byte("/"+assets[0])) {
		t.Errorf("index.html does not load /%s", assets[0])
	}
}

// TestDistIsFresh fails when a source of the web build changed after dist
// was built: the build writes the hash of its sources to build-stamp.json,
// and this recomputes it exactly as scripts/source-hash.mjs does.
func TestDistIsFresh(t *testing.T) {
	raw, err := fs.ReadFile(Dist(), "build-stamp.json")
	if err != nil {
		t.Fatalf("read build-stamp.json: %v", err)
	}
	var stamp struct {
		SourceHash string `json:"sourceHash"`
	}
	if err := json.Unmarshal(raw, &stamp); err != nil {
		t.Fatalf("parse build-stamp.json: %v", err)
	}
	got, err := sourceHash(".")
	if err != nil {
		t.Fatal(err)
	}
	if got != stamp.SourceHash {
		t.Fatalf("web/dist is stale: the sources hash to %s but dist was built from %s.\n"+
			"Run `npm ci && npm run build` in web/ and commit web/dist.", got, stamp.SourceHash)
	}
}

// sourceHash mirrors scripts/source-hash.mjs; keep the two in step.
func sourceHash(root string) (string, error) {
	paths := []string{"package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"}
	for _, tree := range []string{"client/src", "demo"} {
		err := filepath.WalkDir(filepath.Join(root, tree), func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if strings.HasSuffix(rel, ".test.ts") || slices.Contains(strings.Split(rel, "/"), "testing") {
				return nil
			}
			paths = append(paths, rel)
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("walk %s: %w", tree, err)
		}
	}
	sort.Strings(paths)
	var lines bytes.Buffer
	for _, path := range paths {
		content, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(content)
		fmt.Fprintf(&lines, "%s  %s\n", hex.EncodeToString(sum[:]), path)
	}
	sum := sha256.Sum256(lines.Bytes())
	return hex.EncodeToString(sum[:]), nil
}
