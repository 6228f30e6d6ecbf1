package main

import (
	"context"
	"testing"
	"time"

	"github.com/pinionkit/pinion/bench/opsload"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/memory"
)

// The short version of `make test`: while one client has stopped
// reading, the other streams still receive every write's invalidation
// (the last revision reaches every one of them). Latency ratios are
// measured by the command, not asserted: they depend on the machine.
func TestShortSlowClient(t *testing.T) {
	base, _ := opsload.Start(t, memory.Open(), server.Config{})
	phases, err := Run(context.Background(), Config{Base: base, Streams: 20, Writes: 60, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range phases {
		t.Logf("%s: %d deliveries, p50 %v, p99 %v", p.Name, len(p.Latencies), p.Percentile(50), p.Percentile(99))
		if p.Missed != 0 || len(p.Latencies) == 0 {
			t.Fatalf("%s: %d streams missed the last write, %d deliveries", p.Name, p.Missed, len(p.Latencies))
		}
	}
}
