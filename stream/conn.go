package stream

import (
	"net/http"
	"sync"
	"time"

	"github.com/pinionkit/pinion/store"
)

// sink is where a stream's bytes go: an http.ResponseWriter through
// http.ResponseController in production, a buffer in unit tests.
type sink interface {
	WriteHeader(status int)
	Write(p []byte) (int, error)
	Flush() error
	SetWriteDeadline(t time.Time) error
}

type response struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func newResponse(w http.ResponseWriter) sink {
	return &response{ResponseWriter: w, rc: http.NewResponseController(w)}
}

func (r *response) Flush() error                       { return r.rc.Flush() }
func (r *response) SetWriteDeadline(t time.Time) error { return r.rc.SetWriteDeadline(t) }

// conn is one open stream as the hub sees it: what it is subscribed to,
// and its queue of live invalidations. Only the stream's own loop writes
// to out; other goroutines only move its write deadline (which net.Conn
// allows), under mu.
type conn struct {
	principal string
	address   string
	keys      []store.Key
	out       sink
	wake      chan struct{} // one slot: "look at the queue"

	mu    sync.Mutex
	queue []*event
	// caughtUp is set once the catch-up has read the store, at floor:
	// every change up to floor is already reflected in what the stream
	// will send, so a later offer of one is dropped, not queued.
	caughtUp bool
	floor    store.Revision
	behind   bool      // the queue overflowed: the stream ends
	finished bool      // the handler returned: out must not be touched
	cutAt    time.Time // if set, no write may have a later deadline
	armed    time.Time // the deadline last set by arm
}

func newConn(principal, address string, keys []store.Key, out sink) *conn {
	return &conn{principal: principal, address: address, keys: keys, out: out, wake: make(chan struct{}, 1)}
}

// offer queues ev, unless the queue holds max events already: then the
// stream is marked behind and offer returns false (the caller cuts it).
//
// Before the stream has caught up, the hub's feed may still be delivering
// changes committed before the catch-up read the store (the feed lags the
// store by a moment, more after a burst): those are not the client's
// backlog, and most will be dropped by caughtUpAt, so the queue may hold
// catchUpFactor times max of them meanwhile (still a bound: a catch-up
// held that long behind a live burst ends the stream as before).
func (c *conn) offer(ev *event, max int) bool {
	c.mu.Lock()
	if c.behind || c.finished || (c.caughtUp && ev.rev <= c.floor) {
		c.mu.Unlock()
		return true
	}
	if !c.caughtUp {
		max = catchUpQueue(max)
	}
	if len(c.queue) >= max {
		c.behind = true
		c.queue = nil
		c.mu.Unlock()
		c.signal()
		return false
	}
	c.queue = append(c.queue, ev)
	c.mu.Unlock()
	c.signal()
	return true
}

// catchUpFactor is how many times its queue a stream may hold while it
// catches up; see offer.
const catchUpFactor = 64

func catchUpQueue(max int) int { return min(catchUpFactor*max, maxQueue) }

// caughtUpAt records that the catch-up read the store at head: queued
// changes up to head are dropped, later offers of them too, and the
// ordinary bound max applies from now on. It reports false when what
// remains already exceeds max: the stream is then behind.
func (c *conn) caughtUpAt(head store.Revision, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caughtUp, c.floor = true, head
	n := 0
	for _, ev := range c.queue {
		if ev.rev > head {
			c.queue[n] = ev
			n++
		}
	}
	clear(c.queue[n:])
	c.queue = c.queue[:n]
	if len(c.queue) > max && !c.behind {
		c.behind, c.queue = true, nil
		return false
	}
	return !c.behind
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take returns the queued events, leaving spare (emptied) as the new
// queue so that a busy stream does not allocate, and whether the stream
// fell behind.
func (c *conn) take(spare []*event) ([]*event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = spare[:0]
	return q, c.behind
}

// cut makes every write of the stream end by at: a write blocked now is
// released then, and later writes get no later deadline. Eviction cuts at
// once; a drain cuts after drainWrite. Holding mu while the deadline is
// set orders cut against arm: whichever comes second wins with the
// earlier deadline, so a concurrent write cannot push an eviction back.
func (c *conn) cut(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return
	}
	if c.cutAt.IsZero() || at.Before(c.cutAt) {
		c.cutAt = at
	}
	_ = c.out.SetWriteDeadline(c.cutAt)
	c.signal()
}

// arm sets the deadline of the next write: now plus timeout, or the cut.
// It reports false when the stream fell behind and must end instead.
//
// Moving a socket's deadline costs about as much as a tenth of the write
// itself, so a deadline that still has more than half the timeout to run
// is kept: every write is then bounded by between timeout/2 and timeout
// from its start, and a busy stream moves its deadline a few times per
// timeout instead of once per event.
func (c *conn) arm(now time.Time, timeout time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.behind {
		return false
	}
	if !c.cutAt.IsZero() {
		dl := now.Add(timeout)
		if c.cutAt.Before(dl) {
			dl = c.cutAt
		}
		_ = c.out.SetWriteDeadline(dl)
		c.armed = dl
		return true
	}
	if c.armed.Sub(now) > timeout/2 {
		return true
	}
	c.armed = now.Add(timeout)
	_ = c.out.SetWriteDeadline(c.armed)
	return true
}

// finish marks the response as done: after it, cut must not touch the
// connection, which net/http may reuse for another request. The deadline
// left in place bounds net/http's own last write (the end of the chunked
// body).
// It reports whether the stream ended because it fell behind.
func (c *conn) finish(timeout time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finished = true
	dl := time.Now().Add(timeout)
	if !c.cutAt.IsZero() && c.cutAt.Before(dl) {
		dl = c.cutAt
	}
	_ = c.out.SetWriteDeadline(dl)
	return c.behind
}
