package opsload

import (
	"context"
	"testing"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/metrics"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/server/servertest"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/topic"
)

// Start runs an in-process Pinion with the demo topics on st, instrumented
// and with its admin listener, as cmd/pinion wires them with -admin-addr,
// for the short versions of the harnesses in `make test`. It returns the
// public and admin base URLs; both stop when the test ends.
func Start(tb testing.TB, st store.Backend, cfg server.Config) (base, admin string) {
	tb.Helper()
	topics, err := topic.NewSet(demo.Topics())
	if err != nil {
		tb.Fatal(err)
	}
	m := metrics.New()
	cfg.Addr = "127.0.0.1:0"
	cfg.StreamObserver = m
	cfg.Middleware = m.Middleware(func(name string) bool { _, ok := topics.Lookup(name); return ok })
	srv, err := server.New(cfg, m.Store(st), topics, auth.Cookie{Key: auth.NewKey()}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	m.WatchStreams(func() int { return srv.Stats().Streams })
	a, err := metrics.Listen("127.0.0.1:0", m.Handler(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("admin: %v", err)
		}
	})
	return servertest.Run(tb, srv), "http://" + a.Addr()
}
