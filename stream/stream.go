// Package stream fans committed changes out to Server-Sent Events streams.
//
// It is built on github.com/r3labs/sse/v2, used in a deliberately narrow
// way because of that library's traps (see the notes on Hub): one r3labs
// stream per connection, AutoReplay and AutoStream off, events only ever
// offered with TryPublish, every event with an id and non-empty data, and
// resume computed here from the store rather than from an event log.
package stream

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
	"github.com/r3labs/sse/v2"
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

// Config tunes the hub. Zero values take the defaults of docs/protocol.md.
type Config struct {
	// Heartbeat is how long a stream may stay silent before a comment line
	// is sent to keep proxies from closing it. Default 15s.
	Heartbeat time.Duration
	// Retry is the reconnection delay sent in the first event of each
	// stream; each stream gets up to 25% more, at random, so that clients
	// cut off together do not come back together. Default 2s.
	Retry time.Duration
	// Queue is how many events may wait for a subscriber before it counts
	// as unable to keep up and is disconnected. r3labs adds its own 64-slot
	// channel behind it. Default 64.
	Queue int
	// WriteTimeout bounds a single write to a subscriber's socket; a write
	// that blocks longer disconnects it. Default 10s.
	WriteTimeout time.Duration
	// MaxStreams caps open streams in this process; MaxPerPrincipal caps
	// them per principal. Defaults 10000 and 64.
	MaxStreams      int
	MaxPerPrincipal int
	// Logger receives operational messages. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.Retry <= 0 {
		c.Retry = 2 * time.Second
	}
	if c.Queue <= 0 {
		c.Queue = 64
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 10000
	}
	if c.MaxPerPrincipal <= 0 {
		c.MaxPerPrincipal = 64
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Errors returned by Serve before a stream starts.
var (
	// ErrTooManyStreams means a stream limit was reached.
	ErrTooManyStreams = errors.New("stream: too many streams")
	// ErrShuttingDown means the hub is draining and takes no new streams.
	ErrShuttingDown = errors.New("stream: shutting down")
)

// Subscription says what one stream carries.
type Subscription struct {
	// Principal owns the stream; it counts against MaxPerPrincipal.
	Principal string
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
}

// Hub owns every open stream of the process.
//
// Ordering guarantee: each stream sends its replayed invalidations, then
// any live ones that arrived meanwhile, then ready, then live ones, with
// non-decreasing cursor ids; so a client that reconnects with the last id
// it saw, at any point, misses nothing.
type Hub struct {
	cfg  Config
	src  Source
	info store.Info
	sse  *sse.Server

	drain     context.Context // cancelled by Shutdown; ends every stream
	stopDrain context.CancelFunc

	mu          sync.RWMutex
	conns       map[string]*conn
	byKey       map[store.Key]map[*conn]struct{}
	byPrincipal map[string]int
	closed      bool

	nextID    atomic.Uint64
	evicted   atomic.Int64
	heartbeat *sse.Event // shared, read-only
}

// New returns a hub reading from src. Call Run to start delivering.
func New(src Source, cfg Config) *Hub {
	cfg = cfg.withDefaults()
	s := sse.New()
	// The library's defaults are unsafe here: AutoReplay keeps every event
	// in memory for ever and replays from index 0 to new clients;
	// AutoStream lets any client create streams.
	s.AutoReplay = false
	s.AutoStream = false
	s.EncodeBase64 = false
	s.SplitData = false
	s.BufferSize = cfg.Queue
	s.Headers = map[string]string{protocol.HeaderAccelBuffering: "no"}
	drain, stop := context.WithCancel(context.Background())
	h := &Hub{
		cfg:         cfg,
		src:         src,
		info:        src.Info(),
		sse:         s,
		drain:       drain,
		stopDrain:   stop,
		conns:       make(map[string]*conn),
		byKey:       make(map[store.Key]map[*conn]struct{}),
		byPrincipal: make(map[string]int),
		heartbeat:   &sse.Event{Comment: []byte("keep-alive")},
	}
	// Catch-up must start only once r3labs has registered the subscriber:
	// events offered before that are dropped silently. OnSubscribe runs
	// after the registration was accepted by the stream's goroutine.
	s.OnSubscribe = func(id string, _ *sse.Subscriber) { h.catchUp(id) }
	return h
}

// conn is one open stream.
type conn struct {
	id        string
	principal string
	keys      []store.Key
	cursor    string
	ctx       context.Context
	cancel    context.CancelFunc
	w         *deadlineWriter
	lastSend  atomic.Int64 // unix nanos of the last event offered

	mu      sync.Mutex
	ready   bool           // catch-up done; live events go straight out
	pending []store.Change // live changes that arrived during catch-up
	sent    store.Revision // highest revision sent as an invalidation or ready cursor
	first   bool           // the next event is the stream's first
	closed  bool
}

// Serve runs one stream on w until the client goes away, the stream falls
// behind, or the hub shuts down. It returns an error only before anything
// was written.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, sub Subscription) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &conn{
		id:        "c" + strconv.FormatUint(h.nextID.Add(1), 10),
		principal: sub.Principal,
		keys:      slices.Clone(sub.Keys),
		cursor:    sub.Cursor,
		ctx:       ctx,
		cancel:    cancel,
		w:         newDeadlineWriter(w, h.cfg.WriteTimeout),
		first:     true,
	}
	c.lastSend.Store(time.Now().UnixNano())
	if err := h.register(c); err != nil {
		return err
	}
	defer h.unregister(c)
	// On shutdown the stream ends cleanly (the response is terminated, the
	// browser reconnects after its retry delay); only a subscriber that
	// fell behind has its socket cut.
	stop := context.AfterFunc(h.drain, c.cancel)
	defer stop()

	h.sse.CreateStream(c.id)
	// The library reads the stream id from the query and rejects any
	// non-numeric Last-Event-ID with a 400 that would end the browser's
	// EventSource for good; resume is ours, so hide both from it.
	r2 := r.Clone(ctx)
	r2.Header.Del(protocol.HeaderLastEventID)
	r2.URL.RawQuery = "stream=" + c.id
	h.sse.ServeHTTP(c.w, r2)
	c.w.finish()
	// Closed before the r3labs stream goes away, so that a change offered
	// in between is not mistaken for a subscriber falling behind.
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	// ServeHTTP returns after the subscriber was deregistered, so removing
	// the stream now does not leak its context watcher goroutine.
	h.sse.RemoveStream(c.id)
	return nil
}

func (h *Hub) register(c *conn) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrShuttingDown
	}
	if len(h.conns) >= h.cfg.MaxStreams || h.byPrincipal[c.principal] >= h.cfg.MaxPerPrincipal {
		return ErrTooManyStreams
	}
	h.conns[c.id] = c
	h.byPrincipal[c.principal]++
	for _, k := range c.keys {
		set := h.byKey[k]
		if set == nil {
			set = make(map[*conn]struct{})
			h.byKey[k] = set
		}
		set[c] = struct{}{}
	}
	return nil
}

func (h *Hub) unregister(c *conn) {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c.id)
	if h.byPrincipal[c.principal]--; h.byPrincipal[c.principal] <= 0 {
		delete(h.byPrincipal, c.principal)
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

// evict ends a stream at once: later writes fail immediately, a write
// blocked on a full socket is released by a past deadline, and the
// cancelled context makes r3labs deregister the subscriber.
func (c *conn) evict() {
	c.w.kill()
	c.cancel()
}

// Run delivers committed changes and heartbeats until ctx ends. It must run
// for the hub to deliver anything.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.heartbeats(ctx)
	}()
	err := h.follow(ctx)
	wg.Wait()
	return err
}

// follow reads the store's change feed in revision order and dispatches it.
func (h *Hub) follow(ctx context.Context) error {
	const batch = 512
	_, after, err := h.src.Heads(ctx, nil)
	for err != nil {
		h.cfg.Logger.Error("stream: reading store head", "err", err)
		if sleep(ctx, time.Second) != nil {
			return nil
		}
		_, after, err = h.src.Heads(ctx, nil)
	}
	for {
		changes, err := h.src.Since(ctx, after, batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.cfg.Logger.Error("stream: reading changes", "after", after, "err", err)
			if sleep(ctx, time.Second) != nil {
				return nil
			}
			continue
		}
		for _, ch := range changes {
			h.dispatch(ch)
			after = ch.Revision
		}
		if len(changes) == batch {
			continue
		}
		if err := h.src.Wait(ctx, after); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.cfg.Logger.Error("stream: waiting for changes", "err", err)
			if sleep(ctx, time.Second) != nil {
				return nil
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dispatch offers one change to every stream subscribed to its key. It
// never blocks: a stream whose queue is full is evicted.
func (h *Hub) dispatch(ch store.Change) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	set := h.byKey[ch.Key]
	if len(set) == 0 {
		return
	}
	// One event value is shared by all streams: with AutoReplay and
	// EncodeBase64 off, r3labs only reads it.
	ev := h.invalidation(ch)
	for c := range set {
		c.mu.Lock()
		switch {
		case c.closed:
		case !c.ready:
			if len(c.pending) >= h.cfg.Queue {
				h.evictLocked(c)
			} else {
				c.pending = append(c.pending, ch)
			}
		case ch.Revision > c.sent:
			h.offerLocked(c, ev, ch.Revision)
		}
		c.mu.Unlock()
	}
}

// offerLocked hands ev to c's queue, marking rev as sent. c.mu is held.
func (h *Hub) offerLocked(c *conn, ev *sse.Event, rev store.Revision) bool {
	if c.first {
		// retry: must travel on an event with data (r3labs writes it only
		// then), so the first event carries it; copy it so the shared
		// event is not changed.
		e := *ev
		e.Retry = h.retry()
		ev = &e
		c.first = false
	}
	if !h.sse.TryPublish(c.id, ev) {
		h.evictLocked(c)
		return false
	}
	c.lastSend.Store(time.Now().UnixNano())
	if rev > c.sent {
		c.sent = rev
	}
	return true
}

func (h *Hub) evictLocked(c *conn) {
	if c.closed {
		return
	}
	c.closed = true
	h.evicted.Add(1)
	h.cfg.Logger.Info("stream: disconnecting a subscriber that fell behind", "stream", c.id)
	c.evict()
}

// catchUp brings a new stream up to date and marks it ready. It runs once
// per stream, after r3labs registered its subscriber.
func (h *Hub) catchUp(id string) {
	h.mu.RLock()
	c := h.conns[id]
	h.mu.RUnlock()
	if c == nil {
		return
	}
	heads, head, err := h.src.Heads(c.ctx, c.keys)
	if err != nil {
		if c.ctx.Err() == nil {
			h.cfg.Logger.Error("stream: reading heads for catch-up", "stream", id, "err", err)
		}
		c.mu.Lock()
		h.evictLocked(c)
		c.mu.Unlock()
		return
	}
	replay := h.replay(c, heads, head)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, ch := range replay {
		if !h.offerLocked(c, h.invalidation(ch), ch.Revision) {
			return
		}
	}
	// Live changes that raced with the read: those at or below head are
	// already reflected in what was read (and replayed, if the cursor asked
	// for them); later ones go out now, in order.
	cur := head
	for _, ch := range c.pending {
		if ch.Revision <= head {
			continue
		}
		if !h.offerLocked(c, h.invalidation(ch), ch.Revision) {
			return
		}
		cur = ch.Revision
	}
	c.pending = nil
	if !h.offerLocked(c, h.ready(cur), cur) {
		return
	}
	c.ready = true
}

// replay lists the invalidations a stream owes its client for the cursor
// it came with, ordered by the documents' last changes.
func (h *Hub) replay(c *conn, heads []store.Change, head store.Revision) []store.Change {
	if c.cursor == "" {
		return nil
	}
	after, placed := h.info.Place(c.cursor, head)
	var out []store.Change
	if placed {
		for _, ch := range heads {
			if ch.Revision > after {
				out = append(out, ch)
			}
		}
	} else {
		// A cursor we cannot place replays everything; a never-written
		// document counts as changed when the store was created.
		written := make(map[store.Key]bool, len(heads))
		for _, ch := range heads {
			written[ch.Key] = true
		}
		out = slices.Clone(heads)
		for _, k := range c.keys {
			if !written[k] {
				out = append(out, store.Change{Key: k, Revision: h.info.Initial})
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Change) int {
		if c := cmp.Compare(a.Revision, b.Revision); c != 0 {
			return c
		}
		return cmp.Compare(a.Topic, b.Topic)
	})
	return out
}

// invalidationData is the InvalidationEvent of @statesync/core.
type invalidationData struct {
	Topic       string `json:"topic"`
	Revision    string `json:"revision"`
	SourceID    string `json:"sourceId,omitempty"`
	TimestampMs int64  `json:"timestampMs"`
}

func (h *Hub) invalidation(ch store.Change) *sse.Event {
	ts := ch.Time.UnixMilli()
	if ch.Time.IsZero() {
		// A never-written document changed when the store was created;
		// Initial is that time in microseconds, plus one.
		ts = int64(h.info.Initial-1) / 1000
	}
	// json.Marshal output is compact: no raw newline could split the data
	// line, and it never starts with ':' (r3labs would send it as a
	// comment).
	data, err := json.Marshal(invalidationData{
		Topic:       ch.Topic,
		Revision:    ch.Revision.String(),
		SourceID:    ch.SourceID,
		TimestampMs: ts,
	})
	if err != nil {
		panic(fmt.Sprintf("stream: marshal invalidation: %v", err)) // plain strings and ints cannot fail
	}
	return &sse.Event{
		ID:    []byte(store.Cursor{Epoch: h.info.Epoch, Revision: ch.Revision}.String()),
		Event: []byte(protocol.EventInvalidation),
		Data:  data,
	}
}

func (h *Hub) ready(rev store.Revision) *sse.Event {
	cur := store.Cursor{Epoch: h.info.Epoch, Revision: rev}.String()
	data, _ := json.Marshal(struct {
		Cursor string `json:"cursor"`
	}{cur})
	return &sse.Event{ID: []byte(cur), Event: []byte(protocol.EventReady), Data: data}
}

func (h *Hub) retry() []byte {
	ms := h.cfg.Retry.Milliseconds()
	ms += rand.Int64N(ms/4 + 1)
	return []byte(strconv.FormatInt(ms, 10))
}

// heartbeats sends a comment to every ready stream that has been silent for
// the heartbeat interval, from one ticker for the whole process.
func (h *Hub) heartbeats(ctx context.Context) {
	period := h.cfg.Heartbeat / 4
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			idle := now.Add(-h.cfg.Heartbeat).UnixNano()
			h.mu.RLock()
			for _, c := range h.conns {
				if c.lastSend.Load() > idle {
					continue
				}
				c.mu.Lock()
				if c.ready && !c.closed {
					if h.sse.TryPublish(c.id, h.heartbeat) {
						c.lastSend.Store(now.UnixNano())
					} else {
						h.evictLocked(c)
					}
				}
				c.mu.Unlock()
			}
			h.mu.RUnlock()
		}
	}
}

// Shutdown ends every stream and refuses new ones. Clients reconnect (to
// another instance, if there is one) and resume from their last id.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.stopDrain()
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return Stats{Streams: len(h.conns), Evicted: h.evicted.Load()}
}
