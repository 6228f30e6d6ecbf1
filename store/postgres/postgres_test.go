package postgres_test

import (
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/postgres"
	"github.com/pinionkit/pinion/store/postgres/pgtest"
	"github.com/pinionkit/pinion/store/storetest"
)

// open opens a store on dbURL, closed at the end of the test.
func open(t *testing.T, dbURL string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dbURL, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	pgtest.Connect(t) // skip the whole suite at once without a database
	var mu sync.Mutex
	urls := map[store.Backend]string{}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, now func() time.Time) store.Backend {
			u, _ := pgtest.Schema(t)
			s := open(t, u, postgres.WithClock(now))
			mu.Lock()
			urls[s] = u
			mu.Unlock()
			return s
		},
		Reopen: func(t *testing.T, prev store.Backend, now func() time.Time) store.Backend {
			mu.Lock()
			u := urls[prev]
			mu.Unlock()
			s := open(t, u, postgres.WithClock(now))
			mu.Lock()
			urls[s] = u
			mu.Unlock()
			return s
		},
	})
}
