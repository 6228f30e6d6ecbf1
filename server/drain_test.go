package server_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/memory"
)

// TestShutdownDrains runs the shutdown a load balancer sees: /readyz fails
// while streams are still open, then every stream ends with a clean end of
// stream (the client reconnects elsewhere and resumes), and Run returns
// nil, so the process exits 0.
func TestShutdownDrains(t *testing.T) {
	st := memory.Open()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", DrainDelay: 5 * time.Second}, st, testTopics(t), auth.Cookie{Key: auth.NewKey()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	h := &harness{t: t, base: "http://" + srv.Addr(), srv: srv, st: st}
	b := h.browser()
	if r := b.do("GET", "/readyz", ""); r.status != http.StatusOK {
		t.Fatalf("readyz %d", r.status)
	}
	streams := []*sseConn{b.stream("/api/events"), h.browser().stream("/api/events?topic=app-settings")}
	for _, s := range streams {
		s.next(t).ready(t)
	}

	cancel()
	waitFor(t, "/readyz to fail", func() bool {
		return b.do("GET", "/readyz", "").status == http.StatusServiceUnavailable
	})
	for _, s := range streams {
		select {
		case <-s.done:
			t.Fatal("a stream ended before /readyz failed for the drain delay")
		default:
		}
	}
	for _, s := range streams {
		s.waitClosed(t)
		if err := s.ended(); err != io.EOF { // the harness's mark of a clean end
			t.Fatalf("stream ended with %v, want a clean end", err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestStreamLimitPerAddress(t *testing.T) {
	h := start(t, memory.Open(), server.Config{MaxStreamsPerAddress: 1})
	h.browser().stream("/api/events").next(t)
	r := h.browser().do("GET", "/api/events", "")
	r.problem(t, 429)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

func TestNonsenseStreamConfigIsRefused(t *testing.T) {
	if _, err := server.New(server.Config{Addr: "127.0.0.1:0", Heartbeat: 3 * time.Nanosecond}, memory.Open(), testTopics(t), auth.Cookie{Key: auth.NewKey()}, nil); err == nil {
		t.Fatal("a 3ns heartbeat was accepted")
	}
}
