// Package stream fans committed changes out to Server-Sent Events streams.
//
// Each stream is one loop owned by its HTTP handler (loop.go): it catches
// up inline, then waits on its request, its heartbeat timer and its queue
// of live invalidations, so the order of what it writes holds by
// construction. One follower goroutine (follow.go), owned by Run, reads the
// store's change feed and offers each change, encoded once, to the queues
// of the streams subscribed to it; it never blocks on a stream. Events are
// r3labs/sse Event values encoded in wire.go, the only file that uses the
// library. The wire protocol is docs/protocol.md.
package stream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
)

// Source is what the hub needs from a store: its identity, a consistent
// view of the subscribed documents' heads for resuming, and an ordered feed
// of committed changes.
type Source interface {
	Info() store.Info
	Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error)
	Since(ctx context.Context, after store.Revision, limit int) ([]store.Change, error)
	Wait(ctx context.Context, after store.Revision) error
}

// ErrTooManyStreams means a stream limit was reached; the error names it.
var ErrTooManyStreams = errors.New("stream: too many streams")

// Subscription says what one stream carries.
type Subscription struct {
	// Principal owns the stream; it counts against MaxPerPrincipal.
	Principal string
	// Address is the client's address; it counts against MaxPerAddress.
	Address string
	// Keys are the documents the stream receives invalidations for. The
	// caller has checked that the principal may read each of them.
	Keys []store.Key
	// Cursor is the client's Last-Event-ID (or lastEventId parameter), ""
	// when it sent none.
	Cursor string
}

// Stats is a snapshot of the hub's counters.
type Stats struct {
	Streams int   // open streams
	Evicted int64 // streams disconnected for falling behind, since start
	Refused int64 // streams refused by a limit, since start
}

// Hub owns every open stream of the process.
//
// Ordering guarantee: each stream sends its replayed invalidations, then
// the live ones that arrived meanwhile, then ready, then live ones, with
// non-decreasing cursor ids; so a client that reconnects with the last id
// it saw, at any point, misses nothing.
type Hub struct {
	cfg  Config
	src  Source
	info store.Info

	// started is closed once the follower has read the head it starts
	// from: a stream catches up only after that, so every change after its
	// catch-up read is one the follower will dispatch.
	started   chan struct{}
	startOnce sync.Once
	// draining is closed by Shutdown.
	draining  chan struct{}
	drainOnce sync.Once

	mu          sync.RWMutex
	byKey       map[store.Key]map[*conn]struct{}
	all         map[*conn]struct{}
	byPrincipal map[string]int
	byAddress   map[string]int

	evicted atomic.Int64
	refused atomic.Int64
	// Rate-limited logs: a flood of refusals or evictions must not flood
	// the log.
	refusedLog *sampler
	evictedLog *sampler
}

// New returns a hub reading from src, or the reasons cfg makes no sense.
// Call Run to start delivering.
func New(src Source, cfg Config) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Hub{
		cfg:         cfg,
		src:         src,
		info:        src.Info(),
		started:     make(chan struct{}),
		draining:    make(chan struct{}),
		byKey:       make(map[store.Key]map[*conn]struct{}),
		all:         make(map[*conn]struct{}),
		byPrincipal: make(map[string]int),
		byAddress:   make(map[string]int),
		refusedLog:  newSampler(10 * time.Second),
		evictedLog:  newSampler(10 * time.Second),
	}, nil
}

// admit registers c, or says which limit refuses it. From here on, c's
// queue receives every change dispatched for its keys.
func (h *Hub) admit(c *conn) error {
	var limit string
	var n int
	h.mu.Lock()
	switch {
	case h.cfg.MaxStreams > 0 && len(h.all) >= h.cfg.MaxStreams:
		limit, n = "max streams", h.cfg.MaxStreams
	case h.cfg.MaxPerPrincipal > 0 && h.byPrincipal[c.principal] >= h.cfg.MaxPerPrincipal:
		limit, n = "max streams per principal", h.cfg.MaxPerPrincipal
	case h.cfg.MaxPerAddress > 0 && h.byAddress[c.address] >= h.cfg.MaxPerAddress:
		limit, n = "max streams per address", h.cfg.MaxPerAddress
	default:
		h.all[c] = struct{}{}
		h.byPrincipal[c.principal]++
		h.byAddress[c.address]++
		for _, k := range c.keys {
			set := h.byKey[k]
			if set == nil {
				set = make(map[*conn]struct{})
				h.byKey[k] = set
			}
			set[c] = struct{}{}
		}
	}
	h.mu.Unlock()
	if limit == "" {
		return nil
	}
	h.refused.Add(1)
	if count, ok := h.refusedLog.take(); ok {
		h.cfg.Logger.Warn("stream: refused by a limit", "limit", limit, "value", n, "principal", c.principal, "address", c.address, "refused_since_last_log", count)
	}
	return fmt.Errorf("%w (%s %d)", ErrTooManyStreams, limit, n)
}

// release unregisters c.
func (h *Hub) release(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.all, c)
	if h.byPrincipal[c.principal]--; h.byPrincipal[c.principal] <= 0 {
		delete(h.byPrincipal, c.principal)
	}
	if h.byAddress[c.address]--; h.byAddress[c.address] <= 0 {
		delete(h.byAddress, c.address)
	}
	for _, k := range c.keys {
		if set := h.byKey[k]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(h.byKey, k)
			}
		}
	}
}

// dispatch offers one change to every stream subscribed to its key. It
// never blocks on a stream, and never logs: one whose queue is full is cut,
// and its own loop logs that as it ends, so neither a stalled client nor a
// stalled log output can hold up fan-out.
func (h *Hub) dispatch(ch store.Change) {
	h.mu.RLock()
	set := h.byKey[ch.Key]
	if len(set) == 0 {
		h.mu.RUnlock()
		return
	}
	ev := h.invalidation(ch, ch.Revision) // encoded once for every stream
	var behind []*conn
	for c := range set {
		if !c.offer(ev, h.cfg.Queue) {
			behind = append(behind, c)
		}
	}
	h.mu.RUnlock()
	if len(behind) == 0 {
		return
	}
	now := time.Now()
	for _, c := range behind {
		c.cut(now)
	}
	h.evicted.Add(int64(len(behind)))
}

// fellBehind logs, from the evicted stream's own goroutine, that it was
// cut; a flood of evictions logs one line per period.
func (h *Hub) fellBehind(c *conn) {
	if count, ok := h.evictedLog.take(); ok {
		h.cfg.Logger.Info("stream: disconnected a subscriber that fell behind; it resumes from its last id", "principal", c.principal, "address", c.address, "evictions_since_last_log", count)
	}
}

// Shutdown ends every stream cleanly and answers new stream requests with
// a retry, so that clients reconnect (to another instance, if there is
// one) and resume from their last id. A stream blocked writing to a
// stalled client is cut after drainWrite, so one such client cannot hold
// up the process's exit.
func (h *Hub) Shutdown() {
	h.drainOnce.Do(func() { close(h.draining) })
	h.mu.RLock()
	conns := make([]*conn, 0, len(h.all))
	for c := range h.all {
		conns = append(conns, c)
	}
	h.mu.RUnlock()
	at := time.Now().Add(drainWrite)
	for _, c := range conns {
		c.cut(at)
	}
}

// drainWrite bounds every write of a stream once the hub drains.
const drainWrite = time.Second

// Draining reports whether Shutdown was called.
func (h *Hub) Draining() bool {
	select {
	case <-h.draining:
		return true
	default:
		return false
	}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return Stats{Streams: len(h.all), Evicted: h.evicted.Load(), Refused: h.refused.Load()}
}

// Serve runs one stream on w until the client goes away, the stream falls
// behind or its writes stall, or the hub shuts down. It returns an error
// only before anything was written (ErrTooManyStreams, or the request's
// end while waiting for the hub to start).
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, sub Subscription) error {
	out := newResponse(w)
	hdr := w.Header()
	hdr.Set("Content-Type", protocol.MediaEventStream)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set(protocol.HeaderAccelBuffering, "no")
	if h.Draining() {
		return h.refuseDraining(out)
	}
	c := newConn(sub.Principal, sub.Address, slices.Clone(sub.Keys), out)
	if err := h.admit(c); err != nil {
		hdr.Del("Content-Type")
		hdr.Del("Cache-Control")
		hdr.Del(protocol.HeaderAccelBuffering)
		return err
	}
	defer h.release(c)
	err := h.run(r.Context(), c, sub.Cursor)
	if c.finish(h.cfg.WriteTimeout) {
		h.fellBehind(c) // on this goroutine, holding no lock
	}
	return err
}

// refuseDraining answers a stream request that arrives during the drain:
// a 200 stream that sets a retry delay and ends at once, which a browser's
// EventSource retries (it gives up for good on a 503).
func (h *Hub) refuseDraining(out sink) error {
	ms := h.cfg.Retry.Milliseconds()
	b := retryField(ms, ms)
	b = append(b, ": draining\n\n"...)
	_ = out.SetWriteDeadline(time.Now().Add(drainWrite))
	out.WriteHeader(http.StatusOK)
	if _, err := out.Write(b); err != nil {
		return nil
	}
	_ = out.Flush()
	return nil
}
