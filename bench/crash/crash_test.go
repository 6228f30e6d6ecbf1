package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrashHarness is the short version of the 100-cycle run recorded in
// BENCHMARKS.md: a few kill -9 cycles of the real binary under concurrent
// writers, and every acknowledged write must be there after each restart.
func TestCrashHarness(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pinion")
	// A plain build, even under go test -race: the harness tests the
	// binary's durability, and SQLite under the race detector is too slow
	// to reach the interesting moments.
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/pinionkit/pinion/cmd/pinion")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var log strings.Builder
	cycles := 5
	if testing.Short() {
		cycles = 2
	}
	res, err := Run(t.Context(), Config{
		Bin: bin, Data: t.TempDir(), Cycles: cycles, Writers: 8,
		MinRun: 100 * time.Millisecond, MaxRun: 500 * time.Millisecond, Seed: time.Now().UnixNano(),
	}, &log)
	t.Log(res)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.Cycles != cycles {
		t.Fatalf("ran %d cycles, want %d", res.Cycles, cycles)
	}
	// Every cycle must have had writes acknowledged before its kill, or
	// the run checked nothing; a slow machine gets more time, not a pass.
	if res.Acked == 0 {
		t.Fatal("no write was acknowledged: the harness checked nothing")
	}
}
