// Package store holds Pinion's domain types and the contract every storage
// backend fulfils. It does no I/O itself; backends live in sub-packages
// (store/sqlite, store/memory) and all run the conformance suite in
// store/storetest.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Revision identifies one committed state of one document. Revisions are
// issued from a single store-wide, strictly increasing sequence, so they
// also order every committed change of the store: a revision is at the same
// time the document's version and the position of its last change in the
// store's total order. Every revision is greater than the store's creation
// time in microseconds since the Unix epoch, so a wiped and recreated store
// still outranks everything its predecessor issued.
type Revision uint64

// String renders the canonical decimal form used on the wire.
func (r Revision) String() string { return strconv.FormatUint(uint64(r), 10) }

// ParseRevision accepts only the canonical decimal form: no sign, no
// leading zeros, no whitespace, at most 2^64-1.
func ParseRevision(s string) (Revision, error) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("revision %q is not a canonical decimal", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("revision %q is not a canonical decimal", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("revision %q is out of range", s)
	}
	return Revision(n), nil
}

// NextRevision is the revision rule every backend uses: a hybrid clock that
// follows wall-clock microseconds but never repeats or goes back, even when
// the clock does.
func NextRevision(head Revision, now time.Time) Revision {
	// A clock before 1970 would convert to a revision near 2^64 and pin
	// every later one there; treat it as a clock that went back.
	us := now.UnixMicro()
	if us < 0 {
		us = 0
	}
	r := Revision(us)
	if r <= head {
		r = head + 1
	}
	return r
}

// Key names one document: a topic, and for per-principal topics the
// principal that owns it. Shared topics use the empty principal.
type Key struct {
	Topic     string
	Principal string
}

func (k Key) String() string {
	if k.Principal == "" {
		return k.Topic
	}
	return k.Topic + "@" + k.Principal
}

// Document is the stored state of one key.
type Document struct {
	Key
	// Revision is the document's current revision; for a document that has
	// never been written it is the store's Info().Initial.
	Revision Revision
	// Data is the JSON document; nil when the document was never written
	// (the caller substitutes the topic's default).
	Data []byte
	// SourceID is the X-Source-Id of the write that produced this
	// revision, if it carried one.
	SourceID string
	// Time is the commit time of this revision; zero when never written.
	Time time.Time
}

// Written reports whether the document has ever been committed.
func (d Document) Written() bool { return d.Data != nil }

// Change describes a document's last committed change, without its data.
// It is what invalidations are made of.
type Change struct {
	Key
	Revision Revision
	SourceID string
	Time     time.Time
}

// Change returns the change that produced d.
func (d Document) Change() Change {
	return Change{Key: d.Key, Revision: d.Revision, SourceID: d.SourceID, Time: d.Time}
}

// Info describes a store's identity.
type Info struct {
	// Epoch identifies this store (not the process): it is chosen when the
	// store is created and kept for its whole life, so cursors issued by a
	// wiped or restored store can be told apart.
	Epoch string
	// Initial is the revision of every never-written document. It is the
	// store's creation time in microseconds plus one.
	Initial Revision
}

// UpdateFunc computes a document's next data from its current state. It
// runs inside the backend's write transaction, with every other write to
// the same key excluded, so read-modify-write is atomic. Returning an error
// aborts the write and Update returns that error unchanged.
//
// A backend may commit concurrent Updates together, in one transaction
// and one fsync (group commit). Then fn may run on a goroutine other than
// the caller's, after the earlier writes of the same batch, whose results
// it sees as the current state; every write of the batch waits for it, so
// it should be quick (decode and validate the request before calling
// Update) and must not call Update. An fn that fails, or whose caller's
// context ends before fn runs, changes nothing and no other write of the
// batch notices it.
type UpdateFunc func(current Document) (data []byte, err error)

// Backend is the storage contract. Implementations are safe for concurrent
// use.
type Backend interface {
	// Info returns the store's identity. It does not change while open.
	Info() Info
	// Get returns the current document. A never-written key is not an
	// error: it comes back with Data nil and Revision Info().Initial.
	Get(ctx context.Context, key Key) (Document, error)
	// Update commits fn's result as the key's next revision, durably,
	// before returning. Every successful call commits exactly one new
	// revision, even when the data does not change. Writes batched into
	// one commit get increasing revisions in the order their fns ran, and
	// become visible (Get, Heads, Since, Wait) together, at the commit.
	Update(ctx context.Context, key Key, sourceID string, fn UpdateFunc) (Document, error)
	// Heads returns, for each of keys that has been written, its last
	// change (in no particular order), and the store's head revision, read
	// in one consistent snapshot.
	Heads(ctx context.Context, keys []Key) (changes []Change, head Revision, err error)
	// Since returns up to limit documents whose last change is after the
	// given revision, in revision order. Documents changed several times
	// appear once, with their latest change.
	Since(ctx context.Context, after Revision, limit int) ([]Change, error)
	// Wait blocks until the store's head revision is greater than after
	// (a change was committed, by this process or, for shared backends,
	// another), or ctx ends.
	Wait(ctx context.Context, after Revision) error
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	// Close releases the store. Calls after Close return ErrClosed.
	Close() error
}

// ErrClosed is returned by a backend used after Close.
var ErrClosed = errors.New("store: closed")

// ErrUnavailable wraps a failure of the storage itself (a full disk, an
// I/O error, a database that does not answer): the call may succeed later,
// and a write that failed with it changed nothing. Backends wrap such
// failures with it so that callers can tell them from a rejected write;
// the HTTP layer answers them with 503.
var ErrUnavailable = errors.New("store: unavailable")

// Cursor is a position in a store's total order of changes, as carried in
// SSE event ids: "<epoch>.<revision>".
type Cursor struct {
	Epoch    string
	Revision Revision
}

func (c Cursor) String() string { return c.Epoch + "." + c.Revision.String() }

// ParseCursor parses the wire form of a cursor. It does not judge whether
// the cursor belongs to a particular store; see Info.Place.
func ParseCursor(s string) (Cursor, error) {
	epoch, rev, ok := strings.Cut(s, ".")
	if !ok || epoch == "" {
		return Cursor{}, fmt.Errorf("cursor %q has no epoch", s)
	}
	r, err := ParseRevision(rev)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor %q: %w", s, err)
	}
	return Cursor{Epoch: epoch, Revision: r}, nil
}

// Place decides what a client-supplied cursor means for this store, given
// the store's head revision: the revision after which the client has seen
// everything, and whether the cursor was placed at all. A cursor that is
// unparseable, from another epoch, or ahead of the head cannot be placed;
// the caller then treats every document as changed.
func (i Info) Place(raw string, head Revision) (after Revision, ok bool) {
	c, err := ParseCursor(raw)
	if err != nil || c.Epoch != i.Epoch || c.Revision > head {
		return 0, false
	}
	return c.Revision, true
}
