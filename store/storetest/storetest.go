// Package storetest is the conformance suite every store.Backend runs. A
// backend's own tests call Run with a Harness that opens fresh stores; the
// suite then checks the whole store.Backend contract, so that the handlers
// can rely on it without knowing which backend they talk to.
package storetest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
)

// Harness tells Run how to open the backend under test.
type Harness struct {
	// Open returns a new, empty store that reads the time from now. It
	// registers the store's Close with t.Cleanup; Run may close the store
	// earlier itself.
	Open func(t *testing.T, now func() time.Time) store.Backend
	// Reopen opens the data of prev, which Run has already closed, again,
	// reading the time from now. It registers the new store's Close with
	// t.Cleanup. It is nil for a backend that keeps nothing across Close;
	// the durability tests are then skipped.
	Reopen func(t *testing.T, prev store.Backend, now func() time.Time) store.Backend
}

// Run runs the conformance suite against the backend h opens.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("storetest: Harness.Open is nil")
	}
	tests := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"Info", testInfo},
		{"GetNeverWritten", testGetNeverWritten},
		{"Update", testUpdate},
		{"UpdateAlwaysCommits", testUpdateAlwaysCommits},
		{"UpdateError", testUpdateError},
		{"UpdateNoData", testUpdateNoData},
		{"NoAliasing", testNoAliasing},
		{"Principals", testPrincipals},
		{"Clock", testClock},
		{"Heads", testHeads},
		{"Since", testSince},
		{"Wait", testWait},
		{"Concurrency", testConcurrency},
		{"Durability", testDurability},
		{"Closed", testClosed},
		{"Cancelled", testCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, h) })
	}
}

// clock is a settable clock for the tests that need to control time, such
// as one that goes backwards. Until set, it follows the wall clock.
type clock struct {
	t atomic.Pointer[time.Time] // nil: follow time.Now
}

func (c *clock) set(t time.Time) { c.t.Store(&t) }

func (c *clock) now() time.Time {
	if t := c.t.Load(); t != nil {
		return *t
	}
	return time.Now()
}
