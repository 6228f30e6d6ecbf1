package server_test

import (
	"fmt"
	"testing"

	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/postgres"
	"github.com/pinionkit/pinion/store/postgres/pgtest"
)

// TestPostgresConcurrentActionsOverTwoInstances: two servers, each with
// its own connections to one PostgreSQL schema (two instances in all but
// the process), take 1,000 concurrent increments each; none is lost.
func TestPostgresConcurrentActionsOverTwoInstances(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	var hs []*harness
	for range 2 {
		st, err := postgres.Open(t.Context(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		hs = append(hs, start(t, st, server.Config{}))
	}
	const per = 1000
	errs := make(chan error, 2*len(hs))
	for _, h := range hs {
		for range 2 {
			b := h.browser()
			go func() {
				for range per / 2 {
					r := b.do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json")
					if r.status != 200 {
						errs <- fmt.Errorf("status %d: %s", r.status, r.body)
						return
					}
				}
				errs <- nil
			}()
		}
	}
	for range 2 * len(hs) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range hs {
		s := h.browser().do("GET", "/api/topics/counter", "").snapshot(t)
		if got := field(t, s.Data, "n"); got != float64(len(hs)*per) {
			t.Fatalf("counter on %s = %v, want %d", h.base, got, len(hs)*per)
		}
	}
}
