package store

import (
	"context"
	"sync"
)

// Head is a store's head revision as this process knows it, with a way to
// wait for it to pass a value. Backends share it so that Wait behaves the
// same everywhere.
type Head struct {
	mu     sync.Mutex
	rev    Revision
	notify chan struct{} // closed and replaced when rev advances
	closed bool
	done   chan struct{} // closed by Close, to wake every Wait for good
}

// NewHead returns a head at rev.
func NewHead(rev Revision) *Head {
	return &Head{rev: rev, notify: make(chan struct{}), done: make(chan struct{})}
}

// Load returns the head revision.
func (h *Head) Load() Revision {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rev
}

// Advance records a committed revision and wakes every Wait. A revision
// not above the head is ignored, so commits may be reported out of order.
func (h *Head) Advance(rev Revision) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev <= h.rev {
		return
	}
	h.rev = rev
	close(h.notify)
	h.notify = make(chan struct{})
}

// Close wakes every Wait, which then returns ErrClosed. It is safe to call
// more than once.
func (h *Head) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// Wait blocks until the head is greater than after (nil), Close was called
// (ErrClosed), or ctx ends (its error).
func (h *Head) Wait(ctx context.Context, after Revision) error {
	for {
		h.mu.Lock()
		closed, rev, notify := h.closed, h.rev, h.notify
		h.mu.Unlock()
		switch {
		case closed:
			return ErrClosed
		case rev > after:
			return nil
		}
		select {
		case <-notify:
		case <-h.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
