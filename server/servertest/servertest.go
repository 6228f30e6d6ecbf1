// Package servertest runs a Pinion server for the length of a test.
package servertest

import (
	"context"
	"testing"

	"github.com/pinionkit/pinion/server"
)

// Run opens srv on its configured address (use "127.0.0.1:0"), serves
// until the test ends, then shuts it down and reports a failed shutdown.
// It returns the server's base URL.
func Run(tb testing.TB, srv *server.Server) string {
	tb.Helper()
	if err := srv.Open(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("server run: %v", err)
		}
	})
	return "http://" + srv.Addr()
}
