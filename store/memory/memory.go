// Package memory is an in-memory store.Backend, for tests and for running
// Pinion without keeping anything: its data is gone when the process ends.
package memory

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pinionkit/pinion/store"
)

// Store is an in-memory store.Backend. One mutex guards everything, so an
// UpdateFunc must not call back into the store.
type Store struct {
	info store.Info
	now  func() time.Time

	mu     sync.Mutex
	docs   map[store.Key]store.Document
	closed bool
	head   *store.Head
}

var _ store.Backend = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now, so
// that tests can move the clock, backwards included.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open returns a new, empty store.
func Open(opts ...Option) *Store {
	s := &Store{
		now:  time.Now,
		docs: make(map[store.Key]store.Document),
	}
	for _, opt := range opts {
		opt(s)
	}
	var epoch [4]byte
	rand.Read(epoch[:]) // never fails: crypto/rand crashes the program instead
	created := max(s.now().UnixMicro(), 0)
	s.info = store.Info{Epoch: hex.EncodeToString(epoch[:]), Initial: store.Revision(created) + 1}
	// Starting the head at Initial makes the first write outrank the
	// never-written state even if the clock goes back after Open.
	s.head = store.NewHead(s.info.Initial)
	return s
}

// Info returns the store's identity.
func (s *Store) Info() store.Info { return s.info }

// Get returns a copy of the key's document.
func (s *Store) Get(ctx context.Context, key store.Key) (store.Document, error) {
	if err := ctx.Err(); err != nil {
		return store.Document{}, fmt.Errorf("memory: get %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Document{}, store.ErrClosed
	}
	return s.get(key), nil
}

// get returns a copy of the key's document; s.mu must be held.
func (s *Store) get(key store.Key) store.Document {
	doc, ok := s.docs[key]
	if !ok {
		return store.Document{Key: key, Revision: s.info.Initial}
	}
	doc.Data = slices.Clone(doc.Data)
	return doc
}

// Update commits fn's result as the key's next revision. fn runs with the
// store locked, so it must not call the store.
func (s *Store) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	if err := ctx.Err(); err != nil {
		return store.Document{}, fmt.Errorf("memory: update %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Document{}, store.ErrClosed
	}
	data, err := fn(s.get(key))
	if err != nil {
		return store.Document{}, err
	}
	if len(data) == 0 {
		return store.Document{}, fmt.Errorf("memory: update %s: %w", key, errNoData)
	}
	now := s.now()
	doc := store.Document{
		Key:      key,
		Revision: store.NextRevision(s.head.Load(), now),
		Data:     slices.Clone(data),
		SourceID: sourceID,
		// Microseconds, like the durable backends keep it.
		Time: time.UnixMicro(now.UnixMicro()),
	}
	s.docs[key] = doc
	s.head.Advance(doc.Revision)

	doc.Data = slices.Clone(doc.Data)
	return doc, nil
}

// errNoData is returned when an UpdateFunc returns no data: a document is a
// JSON value, and nil data means "never written".
var errNoData = errors.New("update function returned no data")

// Heads returns the last change of each written key among keys, and the
// head revision.
func (s *Store) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("memory: heads: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, 0, store.ErrClosed
	}
	var changes []store.Change
	seen := make(map[store.Key]bool, len(keys))
	for _, key := range keys {
		if doc, ok := s.docs[key]; ok && !seen[key] {
			seen[key] = true
			changes = append(changes, doc.Change())
		}
	}
	return changes, s.head.Load(), nil
}

// Since returns up to limit changes after the given revision, in revision
// order. It scans every document, which is fine for the sizes this store is
// meant for.
func (s *Store) Since(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: since %d: %w", after, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	if limit <= 0 {
		return nil, nil
	}
	var changes []store.Change
	for _, doc := range s.docs {
		if doc.Revision > after {
			changes = append(changes, doc.Change())
		}
	}
	slices.SortFunc(changes, func(a, b store.Change) int { return cmp.Compare(a.Revision, b.Revision) })
	if len(changes) > limit {
		changes = changes[:limit]
	}
	return changes, nil
}

// Wait blocks until the head revision is greater than after, ctx ends, or
// the store is closed.
func (s *Store) Wait(ctx context.Context, after store.Revision) error {
	err := s.head.Wait(ctx, after)
	if err != nil && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("memory: wait: %w", err)
	}
	return err
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	return ctx.Err()
}

// Close discards the data and wakes every Wait. It is safe to call more
// than once.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.docs = nil
		s.head.Close()
	}
	return nil
}
