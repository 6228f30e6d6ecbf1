package stream

import (
	"cmp"
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/pinionkit/pinion/store"
)

// replayBatch is how many replayed events share one write deadline.
const replayBatch = 32

// run is the loop of one admitted stream, on its handler's goroutine:
// catch-up inline, then live events, heartbeats and the end, in the order
// written here. It returns nil once anything was written.
func (h *Hub) run(ctx context.Context, c *conn, cursor string) error {
	select {
	case <-h.started:
	case <-h.draining:
		return h.refuseDraining(c.out)
	case <-ctx.Done():
		return nil // the client left before the hub started
	}
	// The response starts before the catch-up reads the store, so that a
	// client knows at once that the stream is open.
	c.out.WriteHeader(http.StatusOK)
	if !h.write(c, nil) {
		return nil
	}
	heads, head, err := h.heads(ctx, c.keys)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		h.cfg.Logger.Error("stream: reading heads for catch-up; the client is told to retry", "err", err)
		ms := h.cfg.Retry.Milliseconds()
		h.write(c, append(retryField(ms, ms), '\n'))
		return nil
	}
	if !c.caughtUpAt(head, h.cfg.Queue) {
		h.evicted.Add(1)
		h.cfg.Observer.Evicted("slow")
		return nil
	}

	// Catch-up: the replay the cursor asks for, written directly (it never
	// counts against the live queue), then the live changes that arrived
	// meanwhile, then ready.
	ms := h.cfg.Retry.Milliseconds()
	pending := retryField(ms, ms/4)
	replayed := h.replay(cursor, c.keys, heads, head)
	obs := h.cfg.Observer
	for i, ev := range replayed {
		pending = append(pending, ev.wire...)
		if (i+1)%replayBatch == 0 {
			if !h.write(c, pending) {
				return nil
			}
			obs.EventsSent(replayBatch)
			pending = pending[:0]
		}
	}
	obs.Replayed(len(replayed))
	unsent := len(replayed) % replayBatch
	replayed = nil
	heads = nil
	sent := head // every change up to head is reflected in what was read
	var spare []*event
	q, behind := c.take(spare)
	if behind {
		obs.Evicted("slow")
		return nil
	}
	for _, ev := range q {
		if ev.rev > sent {
			pending = append(pending, ev.wire...)
			sent = ev.rev
			unsent++
		}
	}
	clear(q)
	spare = q
	pending = append(pending, h.ready(sent)...)
	if !h.write(c, pending) {
		return nil
	}
	obs.EventsSent(unsent)
	pending = nil

	// Live: one select, so events, heartbeats and the end never interleave
	// and ids never go back. The heartbeat timer is re-armed only when it
	// fires, for the rest of the interval since the last write, so a busy
	// stream pays nothing for it; each stream's interval is up to 10%
	// shorter, at random, so streams opened together do not beat together,
	// and no gap exceeds Heartbeat.
	beat := h.cfg.Heartbeat - rand.N(h.cfg.Heartbeat/10+1)
	timer := time.NewTimer(beat)
	defer timer.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.draining:
			// A clean end, with a retry spread over [Retry, 2*Retry] so that
			// the clients of a draining instance come back apart.
			h.write(c, append(retryField(ms, ms), '\n'))
			obs.Evicted("shutdown")
			return nil
		case <-c.wake:
			q, behind := c.take(spare)
			if behind {
				obs.Evicted("slow")
				return nil
			}
			n := 0
			for _, ev := range q {
				if ev.rev > sent {
					q[n] = ev
					n++
					sent = ev.rev
				}
			}
			if n > 0 {
				if !h.writeEvents(c, q[:n]) {
					return nil
				}
				obs.EventsSent(n)
				last = time.Now()
			}
			clear(q)
			spare = q[:0]
		case now := <-timer.C:
			if idle := now.Sub(last); idle < beat {
				timer.Reset(beat - idle)
				continue
			}
			if !h.write(c, heartbeat) {
				return nil
			}
			last = now
			timer.Reset(beat)
		}
	}
}

// write sends p as one write with one deadline, and flushes it.
func (h *Hub) write(c *conn, p []byte) bool {
	if !c.arm(time.Now(), h.cfg.WriteTimeout) {
		return false
	}
	if _, err := c.out.Write(p); err != nil {
		return false
	}
	return c.out.Flush() == nil
}

// writeEvents sends already-encoded events under one deadline and one
// flush: the shared bytes are never copied per stream.
func (h *Hub) writeEvents(c *conn, evs []*event) bool {
	if !c.arm(time.Now(), h.cfg.WriteTimeout) {
		return false
	}
	for _, ev := range evs {
		if _, err := c.out.Write(ev.wire); err != nil {
			return false
		}
	}
	return c.out.Flush() == nil
}

// replay lists the invalidations a stream owes its client for cursor, in
// revision order. A placed cursor gets the documents changed after it; one
// that cannot be placed (another store, garbage, ahead of the head) gets
// every document. A never-written document counts as changed when the
// store was created, at Initial: a cursor before Initial gets it too.
//
// Never-written documents all share revision Initial, so their ids would
// be equal and a replay cut among them would resume without the rest. All
// but the last of them therefore carry the id Initial-1, the position
// before anything the store did, which resumes with all of them again;
// the last carries Initial.
func (h *Hub) replay(cursor string, keys []store.Key, heads []store.Change, head store.Revision) []*event {
	if cursor == "" {
		return nil
	}
	after, placed := h.info.Place(cursor, head)
	initial := h.info.Initial
	written := make(map[store.Key]bool, len(heads))
	var out []*event
	if !placed || after < initial {
		for _, ch := range heads {
			written[ch.Key] = true
		}
		var fresh []store.Key
		for _, k := range keys {
			if !written[k] {
				fresh = append(fresh, k)
			}
		}
		for i, k := range fresh {
			id := initial - 1
			if i == len(fresh)-1 {
				id = initial
			}
			out = append(out, h.invalidation(store.Change{Key: k, Revision: initial}, id))
		}
	}
	sorted := make([]store.Change, 0, len(heads))
	for _, ch := range heads {
		if !placed || ch.Revision > after {
			sorted = append(sorted, ch)
		}
	}
	// Revisions are unique per store, so the order is total.
	slices.SortFunc(sorted, func(a, b store.Change) int { return cmp.Compare(a.Revision, b.Revision) })
	for _, ch := range sorted {
		out = append(out, h.invalidation(ch, ch.Revision))
	}
	return out
}

// heads reads the subscribed documents' heads on a goroutine of its own,
// waited for here: a store's read can be deep (the embedded SQLite is
// transpiled C), and on the stream's goroutine it would grow that stack
// for the whole life of the stream, which is most of an idle stream's
// memory.
func (h *Hub) heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	type result struct {
		heads []store.Change
		head  store.Revision
		err   error
	}
	done := make(chan result, 1)
	go func() {
		heads, head, err := h.src.Heads(ctx, keys)
		done <- result{heads, head, err}
	}()
	r := <-done
	return r.heads, r.head, r.err
}
