package main

import (
	"context"
	"testing"
	"time"

	"github.com/pinionkit/pinion/bench/opsload"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/sqlite"
)

// The short soak of `make test`: a few seconds of writes and churning
// streams against the real stack; every write and stream succeeds, events
// arrive, and once the load stops the server's goroutines and streams go
// back to where they started (a leak per stream or per write would not).
func TestShortSoak(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base, admin := opsload.Start(t, st, server.Config{})
	c := opsload.Client()
	before, err := opsload.Scrape(ctx, c, admin)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Soak(ctx, Config{Base: base, Admin: admin, Duration: 4 * time.Second, Sample: 500 * time.Millisecond,
		WriteRate: 40, Streams: 20, StreamLife: 400 * time.Millisecond, MinWrites: 50, MinReconnects: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("writes=%d events=%d reconnects=%d samples=%d", res.Writes, res.Events, res.Reconnects, len(res.Samples))
	if res.WriteErrors != 0 || res.StreamErrors != 0 {
		t.Fatalf("%d write errors, %d stream errors; first: %v", res.WriteErrors, res.StreamErrors, res.Werr)
	}
	if res.Writes < 50 || res.Events == 0 || res.Reconnects < 100 || len(res.Samples) < 2 {
		t.Fatalf("no real load: %+v", res)
	}
	// The harness's own clients live in this process too: the slack
	// covers their idle connections, not a per-stream leak (20 streams
	// reconnected hundreds of times).
	deadline := time.Now().Add(60 * time.Second)
	for {
		m, err := opsload.Scrape(ctx, c, admin)
		if err != nil {
			t.Fatal(err)
		}
		if m["pinion_streams_open"] == 0 && m["go_goroutines"] <= before["go_goroutines"]+40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the soak: %v goroutines (before %v), %v streams open", m["go_goroutines"], before["go_goroutines"], m["pinion_streams_open"])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
