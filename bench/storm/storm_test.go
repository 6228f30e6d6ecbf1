package main

import (
	"context"
	"testing"
	"time"

	"github.com/pinionkit/pinion/bench/opsload"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/sqlite"
)

// The short storm of `make test`: 200 streams dropped at once while
// writes go on; every one resumes with its Last-Event-ID and none misses
// the last revision. (The 10,000-stream run and its timings are in
// BENCHMARKS.md; this asserts no time.)
func TestShortStorm(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base, _ := opsload.Start(t, st, server.Config{Retry: 100 * time.Millisecond})
	res, err := Storm(context.Background(), Config{Base: base, Streams: 200, WriteRate: 50, HonorRetry: true, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("writes=%d resume p50=%v max=%v open errors=%d", res.Writes, res.Percentile(50), res.Percentile(100), res.OpenErrors)
	if len(res.Resume) != 200 || res.Missed != 0 || res.Writes == 0 {
		t.Fatalf("resumed %d of 200, missed %d, writes %d; first error %v", len(res.Resume), res.Missed, res.Writes, res.FirstOpenFail)
	}
}
