// Package cache keeps an in-process copy of current revisions and of hot
// documents in front of any store.Backend, so that a snapshot read whose
// answer has not changed (a 304, or a 200 of an unchanged document) costs
// no database read.
//
// Its source of truth is the backend's change feed (Wait and Since), not
// the writes made through it: a follower goroutine reads every change the
// backend commits, whichever process or store handle made it, and raises
// the cached revision of its key, which drops a cached document older than
// that. A cached document is served only while it is at the highest
// revision the cache knows for its key. Two guarantees follow:
//
//   - Read your writes: a Get after an Update through the same Cache
//     returns that Update's revision or a later one (the Update's result is
//     recorded before Update returns).
//   - Reads prompted by the feed are not older than the feed: every change
//     returned by Since or Heads through the Cache is recorded before they
//     return, so a consumer that announces a change (the event stream
//     sends an invalidation naming it) and a client that then reads the
//     document get that revision or a later one.
//
// A change made elsewhere and not yet announced to anyone is picked up by
// the follower as soon as the backend's Wait reports it; until then a
// read may return the previous revision, exactly as if it had been served
// a moment earlier. While the follower cannot read the feed (the database
// is down), the cache serves nothing and every Get goes to the backend.
package cache

import (
	"container/list"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/pinionkit/pinion/store"
)

// entryOverhead approximates the memory one entry costs besides its key
// and data (map slot, list element, struct), so that revisions of keys
// whose documents are not cached count against the bound too.
const entryOverhead = 160

// feedBatch is how many changes the follower asks Since for at a time.
const feedBatch = 1000

// Cache is a store.Backend that serves Get from memory when it can. Make
// one with New; Close stops it and closes the backend.
type Cache struct {
	b        store.Backend
	maxBytes int64

	mu      sync.Mutex
	entries map[store.Key]*list.Element // of *entry, most recently used first
	lru     list.List
	bytes   int64
	// evictions counts entries dropped for room. A Get that read the
	// backend while an entry was evicted cannot tell whether its key's
	// entry (with a higher revision) was among them, so it does not cache
	// what it read.
	evictions uint64
	// live is false while the follower is not known to have read the feed
	// up to the backend's head; the cache then serves nothing.
	live bool
	// closed is set by Close: nothing is served from memory after it.
	closed bool

	cancel  context.CancelFunc
	stopped chan struct{}
}

type entry struct {
	key store.Key
	// rev is the highest revision known committed for key.
	rev store.Revision
	// doc is the document at rev when has is set; a cached document whose
	// revision falls behind rev is dropped.
	doc  store.Document
	has  bool
	size int64
}

var _ store.Backend = (*Cache)(nil)

// New starts a cache of at most maxBytes (documents plus bookkeeping) in
// front of b. It reads b's head first, so that the follower misses no
// change committed after New returns; a maxBytes of 0 or less disables
// caching (every call goes to b).
func New(ctx context.Context, b store.Backend, maxBytes int64) (*Cache, error) {
	_, head, err := b.Heads(ctx, nil)
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithCancel(context.Background())
	c := &Cache{
		b:        b,
		maxBytes: maxBytes,
		entries:  make(map[store.Key]*list.Element),
		live:     maxBytes > 0,
		cancel:   cancel,
		stopped:  make(chan struct{}),
	}
	if maxBytes <= 0 {
		close(c.stopped)
		return c, nil
	}
	go c.follow(fctx, head)
	return c, nil
}

// follow reads the backend's change feed from after on, recording every
// change, until ctx ends or the backend closes.
func (c *Cache) follow(ctx context.Context, after store.Revision) {
	defer close(c.stopped)
	backoff := 10 * time.Millisecond
	for {
		changes, err := c.b.Since(ctx, after, feedBatch)
		if err == nil {
			for _, ch := range changes {
				c.observe(ch.Key, ch.Revision)
				after = max(after, ch.Revision)
			}
			if len(changes) == feedBatch {
				continue // more to read before waiting
			}
			c.setLive(true)
			backoff = 10 * time.Millisecond
			err = c.b.Wait(ctx, after)
			if err == nil {
				continue
			}
		}
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return
		}
		// The feed cannot be read: changes may be missed until it can,
		// so nothing cached can be trusted meanwhile.
		c.setLive(false)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, time.Second)
	}
}

func (c *Cache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.maxBytes <= 0 || c.live == live {
		return
	}
	c.live = live
	if !live {
		// Drop everything: after the gap, the entries' revisions may be
		// behind changes the follower never saw.
		c.entries = make(map[store.Key]*list.Element)
		c.lru.Init()
		c.bytes = 0
		c.evictions++
	}
}

// observe records that key has a committed revision rev.
func (c *Cache) observe(key store.Key, rev store.Revision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return
	}
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*entry)
		if rev > e.rev {
			e.rev = rev
			if e.has && e.doc.Revision < rev {
				c.setDoc(e, store.Document{}, false)
			}
		}
		return
	}
	c.insert(&entry{key: key, rev: rev})
}

// remember records doc, just read from or committed to the backend, and
// caches it if it is the newest revision known for its key. data must not
// be shared with a caller. gen is the eviction count from before the read.
func (c *Cache) remember(doc store.Document, data []byte, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return
	}
	doc.Data = data
	el, ok := c.entries[doc.Key]
	if !ok {
		if c.evictions != gen {
			return // the key's entry may have been evicted while we read
		}
		c.insert(&entry{key: doc.Key, rev: doc.Revision})
		el = c.entries[doc.Key]
	}
	e := el.Value.(*entry)
	switch {
	case doc.Revision < e.rev:
		return // a newer revision is known: the document read is stale
	case doc.Revision > e.rev:
		e.rev = doc.Revision
	}
	c.lru.MoveToFront(el)
	c.setDoc(e, doc, true)
	c.evict()
}

func (c *Cache) insert(e *entry) {
	e.size = entryOverhead + int64(len(e.key.Topic)+len(e.key.Principal))
	c.bytes += e.size
	c.entries[e.key] = c.lru.PushFront(e)
	c.evict()
}

// setDoc replaces e's document, keeping the byte count.
func (c *Cache) setDoc(e *entry, doc store.Document, has bool) {
	c.bytes -= int64(len(e.doc.Data) + len(e.doc.SourceID))
	e.doc, e.has = doc, has
	c.bytes += int64(len(doc.Data) + len(doc.SourceID))
}

// evict drops least recently used entries until the cache fits.
func (c *Cache) evict() {
	for c.bytes > c.maxBytes {
		el := c.lru.Back()
		if el == nil {
			return
		}
		e := el.Value.(*entry)
		c.setDoc(e, store.Document{}, false)
		c.bytes -= e.size
		c.lru.Remove(el)
		delete(c.entries, e.key)
		c.evictions++
	}
}

// Get returns the key's current document from memory when the cache holds
// it at the newest revision it knows, and from the backend otherwise. The
// returned Data is the caller's own.
func (c *Cache) Get(ctx context.Context, key store.Key) (store.Document, error) {
	if err := ctx.Err(); err != nil {
		return store.Document{}, err
	}
	c.mu.Lock()
	gen := c.evictions
	if el, ok := c.entries[key]; ok && c.live && !c.closed {
		if e := el.Value.(*entry); e.has && e.doc.Revision == e.rev {
			c.lru.MoveToFront(el)
			doc := e.doc
			c.mu.Unlock()
			doc.Data = slices.Clone(doc.Data)
			return doc, nil
		}
	}
	c.mu.Unlock()
	doc, err := c.b.Get(ctx, key)
	if err != nil {
		return doc, err
	}
	c.remember(doc, slices.Clone(doc.Data), gen)
	return doc, nil
}

// Update writes through to the backend and records the committed document
// before returning, so that this instance reads its own writes.
func (c *Cache) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	c.mu.Lock()
	gen := c.evictions
	c.mu.Unlock()
	doc, err := c.b.Update(ctx, key, sourceID, fn)
	if err != nil {
		return doc, err
	}
	// A committed revision is a fact whether or not it gets cached.
	c.observe(key, doc.Revision)
	c.remember(doc, slices.Clone(doc.Data), gen)
	return doc, nil
}

// Heads reads through and records every change it returns.
func (c *Cache) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	changes, head, err := c.b.Heads(ctx, keys)
	for _, ch := range changes {
		c.observe(ch.Key, ch.Revision)
	}
	return changes, head, err
}

// Since reads through and records every change it returns before
// returning them, so that whoever announces them announces nothing the
// cache does not know.
func (c *Cache) Since(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	changes, err := c.b.Since(ctx, after, limit)
	for _, ch := range changes {
		c.observe(ch.Key, ch.Revision)
	}
	return changes, err
}

// Info returns the backend's identity.
func (c *Cache) Info() store.Info { return c.b.Info() }

// Wait waits on the backend.
func (c *Cache) Wait(ctx context.Context, after store.Revision) error { return c.b.Wait(ctx, after) }

// Ping pings the backend.
func (c *Cache) Ping(ctx context.Context) error { return c.b.Ping(ctx) }

// Close stops the follower and closes the backend.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	<-c.stopped
	return c.b.Close()
}

// Stats describes the cache's content.
type Stats struct {
	Entries, Documents int
	Bytes              int64
}

// Stats returns the cache's current content.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{Entries: len(c.entries), Bytes: c.bytes}
	for _, el := range c.entries {
		if el.Value.(*entry).has {
			s.Documents++
		}
	}
	return s
}
