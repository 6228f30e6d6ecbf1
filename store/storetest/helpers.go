package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
)

// errBoom is what failing UpdateFuncs return, so that the tests can check
// that Update hands it back unchanged.
var errBoom = errors.New("storetest: boom")

// waitTimeout bounds every wait for something that should happen promptly,
// so that a broken backend fails the test instead of hanging it.
const waitTimeout = 10 * time.Second

// write returns an UpdateFunc that ignores the current state and writes data.
func write(data string) store.UpdateFunc {
	return func(store.Document) ([]byte, error) { return []byte(data), nil }
}

// increment is the read-modify-write UpdateFunc of the counter tests: the
// document is a JSON number, absent meaning 0.
func increment(cur store.Document) ([]byte, error) {
	n := 0
	if cur.Data != nil {
		var err error
		if n, err = strconv.Atoi(string(cur.Data)); err != nil {
			return nil, err
		}
	}
	return []byte(strconv.Itoa(n + 1)), nil
}

func mustUpdate(t *testing.T, s store.Backend, key store.Key, sourceID string, fn store.UpdateFunc) store.Document {
	t.Helper()
	doc, err := s.Update(t.Context(), key, sourceID, fn)
	if err != nil {
		t.Fatalf("Update(%s): %v", key, err)
	}
	return doc
}

func mustGet(t *testing.T, s store.Backend, key store.Key) store.Document {
	t.Helper()
	doc, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return doc
}

func mustHead(t *testing.T, s store.Backend) store.Revision {
	t.Helper()
	_, head, err := s.Heads(t.Context(), nil)
	if err != nil {
		t.Fatalf("Heads: %v", err)
	}
	return head
}

func mustSince(t *testing.T, s store.Backend, after store.Revision, limit int) []store.Change {
	t.Helper()
	changes, err := s.Since(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("Since(%d, %d): %v", after, limit, err)
	}
	return changes
}

// checkDoc fails the test unless got and want are the same document. Times
// are compared with Equal: backends may return them in another location.
func checkDoc(t *testing.T, what string, got, want store.Document) {
	t.Helper()
	if got.Key != want.Key || got.Revision != want.Revision || !bytes.Equal(got.Data, want.Data) ||
		(got.Data == nil) != (want.Data == nil) || got.SourceID != want.SourceID || !got.Time.Equal(want.Time) {
		t.Errorf("%s:\n got %s\nwant %s", what, fmtDoc(got), fmtDoc(want))
	}
}

func fmtDoc(d store.Document) string {
	data := "nil"
	if d.Data != nil {
		data = strconv.Quote(string(d.Data))
	}
	return "{key " + strconv.Quote(d.Key.String()) + " rev " + d.Revision.String() + " data " + data +
		" source " + strconv.Quote(d.SourceID) + " time " + d.Time.UTC().Format(time.RFC3339Nano) + "}"
}

func sameChange(a, b store.Change) bool {
	return a.Key == b.Key && a.Revision == b.Revision && a.SourceID == b.SourceID && a.Time.Equal(b.Time)
}

// checkChanges fails the test unless got and want hold the same changes in
// the same order.
func checkChanges(t *testing.T, what string, got, want []store.Change) {
	t.Helper()
	if !slices.EqualFunc(got, want, sameChange) {
		t.Errorf("%s:\n got %s\nwant %s", what, fmtChanges(got), fmtChanges(want))
	}
}

func fmtChanges(cs []store.Change) string {
	var b []byte
	b = append(b, '[')
	for i, c := range cs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, c.Key.String()...)
		b = append(b, '@')
		b = append(b, c.Revision.String()...)
		if c.SourceID != "" {
			b = append(b, '/')
			b = append(b, c.SourceID...)
		}
	}
	return string(append(b, ']'))
}

// waitResult runs Wait in a goroutine and returns the channel its result
// arrives on.
func waitResult(ctx context.Context, s store.Backend, after store.Revision) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Wait(ctx, after) }()
	return ch
}

// receive returns the value ch delivers, failing the test if none comes
// within waitTimeout.
func receive[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("%s: nothing after %v", what, waitTimeout)
		panic("unreachable")
	}
}

// pending fails the test if ch delivers within a short while: the call it
// stands for should still be blocked.
func pending[T any](t *testing.T, what string, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s: returned %v, want it to block", what, v)
	case <-time.After(50 * time.Millisecond):
	}
}
