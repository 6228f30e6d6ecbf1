package server_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
)

// lockCounter counts the UpdateFuncs the store runs: the work done inside
// the write lock.
type lockCounter struct {
	testStore
	inside atomic.Int64
}

func (s *lockCounter) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	return s.testStore.Update(ctx, key, sourceID, func(cur store.Document) ([]byte, error) {
		s.inside.Add(1)
		return fn(cur)
	})
}

// TestBadInputRefusedBeforeTheLock: a write whose body alone is wrong (its
// syntax, bounds, a merge patch that is not an object, an action input
// that does not validate) is refused without taking the store's write
// lock, so that it never makes other writers wait.
func TestBadInputRefusedBeforeTheLock(t *testing.T) {
	st := &lockCounter{testStore: memory.Open()}
	h := start(t, st, server.Config{})
	b := h.browser()
	json := []string{"Content-Type", "application/json"}
	patch := []string{"Content-Type", "application/merge-patch+json"}
	for _, tt := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
	}{
		{"PUT invalid", "PUT", "/api/topics/app-settings", `{"theme":"neon","language":"en","fontSize":99}`, json, 422},
		{"PATCH syntax", "PATCH", "/api/topics/app-settings", `{"theme":`, patch, 400},
		{"PATCH not an object", "PATCH", "/api/topics/app-settings", `["dark"]`, patch, 422},
		{"PATCH too deep", "PATCH", "/api/topics/app-settings", deep(100), patch, 413},
		{"action syntax", "POST", "/api/topics/counter/actions/increment", `{"by":`, json, 400},
		{"action invalid input", "POST", "/api/topics/counter/actions/increment", `{"by":0}`, json, 422},
		{"action unknown member", "POST", "/api/topics/counter/actions/increment", `{"by":1,"x":2}`, json, 422},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := st.inside.Load()
			r := b.do(tt.method, tt.path, tt.body, tt.headers...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if n := st.inside.Load() - before; n != 0 {
				t.Errorf("the refused write ran %d update functions inside the write lock", n)
			}
		})
	}
	// A good write still goes through the lock, once.
	if r := b.do("POST", "/api/topics/counter/actions/increment", `{"by":2}`, json...); r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if n := st.inside.Load(); n != 1 {
		t.Errorf("%d update functions ran for one write, want 1", n)
	}
}

func deep(n int) string {
	s := "1"
	for range n {
		s = `{"a":` + s + "}"
	}
	return s
}
