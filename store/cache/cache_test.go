package cache_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/cache"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/store/sqlite"
	"github.com/pinionkit/pinion/store/storetest"
)

const testBytes = 1 << 20

func wrap(t testing.TB, b store.Backend, maxBytes int64) *cache.Cache {
	t.Helper()
	c, err := cache.New(t.Context(), b, maxBytes)
	if err != nil {
		t.Fatalf("cache.New: %v", err)
	}
	return c
}

func openSQLite(t testing.TB, dir string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), dir, opts...)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	return s
}

// The cache is a backend: it passes the whole conformance suite, in front
// of each backend and with a bound so small that it evicts all the time.
func TestConformance(t *testing.T) {
	// The durable backend once; the tiny bound (constant eviction) on the
	// memory backend, where the suite's 2 × 1,000 updates are cheap under
	// the race detector.
	for _, maxBytes := range []int64{testBytes} {
		t.Run("sqlite/"+strconv.FormatInt(maxBytes, 10), func(t *testing.T) {
			var mu sync.Mutex
			dirs := map[store.Backend]string{}
			open := func(t *testing.T, dir string, now func() time.Time) store.Backend {
				c := wrap(t, openSQLite(t, dir, sqlite.WithClock(now)), maxBytes)
				t.Cleanup(func() { c.Close() })
				mu.Lock()
				dirs[c] = dir
				mu.Unlock()
				return c
			}
			storetest.Run(t, storetest.Harness{
				Open: func(t *testing.T, now func() time.Time) store.Backend { return open(t, t.TempDir(), now) },
				Reopen: func(t *testing.T, prev store.Backend, now func() time.Time) store.Backend {
					mu.Lock()
					dir := dirs[prev]
					mu.Unlock()
					return open(t, dir, now)
				},
			})
		})
	}
	for _, maxBytes := range []int64{testBytes, 400} {
		t.Run("memory/"+strconv.FormatInt(maxBytes, 10), func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				Open: func(t *testing.T, now func() time.Time) store.Backend {
					c := wrap(t, memory.Open(memory.WithClock(now)), maxBytes)
					t.Cleanup(func() { c.Close() })
					return c
				},
			})
		})
	}
}

func set(data string) store.UpdateFunc {
	return func(store.Document) ([]byte, error) { return []byte(data), nil }
}

// countingBackend counts the Gets that reach the backend.
type countingBackend struct {
	store.Backend
	mu   sync.Mutex
	gets int
}

func (b *countingBackend) Get(ctx context.Context, key store.Key) (store.Document, error) {
	b.mu.Lock()
	b.gets++
	b.mu.Unlock()
	return b.Backend.Get(ctx, key)
}

func (b *countingBackend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gets
}

// TestUnchangedReadsStayInMemory: once a document is cached, reading it
// again does not reach the backend until it changes.
func TestUnchangedReadsStayInMemory(t *testing.T) {
	b := &countingBackend{Backend: openSQLite(t, t.TempDir())}
	c := wrap(t, b, testBytes)
	defer c.Close()
	key, fresh := store.Key{Topic: "a"}, store.Key{Topic: "never"}
	doc, err := c.Update(t.Context(), key, "", set(`{"v":1}`))
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		got, err := c.Get(t.Context(), key)
		if err != nil || got.Revision != doc.Revision || string(got.Data) != `{"v":1}` {
			t.Fatalf("Get = %s at %d, %v; want {\"v\":1} at %d", got.Data, got.Revision, err, doc.Revision)
		}
		if _, err := c.Get(t.Context(), fresh); err != nil {
			t.Fatal(err)
		}
	}
	// The written document came from the write, the never-written one
	// from one read.
	if n := b.count(); n != 1 {
		t.Errorf("%d Gets reached the backend, want 1", n)
	}
}

// TestExactAgainstAnotherHandle: writes that do not pass through the
// cache (another store handle on the same data: here the backend itself,
// as another instance on a shared database would be) reach it through the
// change feed, and what the feed announced is never read older.
func TestExactAgainstAnotherHandle(t *testing.T) {
	raw := openSQLite(t, t.TempDir())
	c := wrap(t, raw, testBytes)
	defer c.Close()
	key := store.Key{Topic: "doc", Principal: "p"}
	if _, err := c.Update(t.Context(), key, "", set("0")); err != nil {
		t.Fatal(err)
	}
	_, after, err := c.Heads(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 200; i++ {
		if _, err := c.Get(t.Context(), key); err != nil { // cache it
			t.Fatal(err)
		}
		doc, err := raw.Update(t.Context(), key, "", set(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		// What a stream does: wait for the head to move, read the feed,
		// announce; then the client reads.
		if err := c.Wait(t.Context(), after); err != nil {
			t.Fatal(err)
		}
		changes, err := c.Since(t.Context(), after, 100)
		if err != nil || len(changes) == 0 {
			t.Fatalf("Since = %v, %v", changes, err)
		}
		after = changes[len(changes)-1].Revision
		got, err := c.Get(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Revision < doc.Revision {
			t.Fatalf("write %d: Get after the feed announced %d returned %d (%s)", i, doc.Revision, got.Revision, got.Data)
		}
		// Heads, which the stream uses on connect, counts as announcing too.
		doc, err = raw.Update(t.Context(), key, "", set(strconv.Itoa(-i)))
		if err != nil {
			t.Fatal(err)
		}
		changes, _, err = c.Heads(t.Context(), []store.Key{key})
		if err != nil || len(changes) != 1 {
			t.Fatalf("Heads = %v, %v", changes, err)
		}
		if got, err := c.Get(t.Context(), key); err != nil || got.Revision < changes[0].Revision {
			t.Fatalf("Get after Heads named %d returned %d, %v", changes[0].Revision, got.Revision, err)
		}
		after = max(after, doc.Revision)
	}
	// Without anyone reading the feed, the follower catches up by itself.
	doc, err := raw.Update(t.Context(), key, "", set(`"last"`))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got, err := c.Get(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Revision == doc.Revision && string(got.Data) == `"last"` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get still returns %s at %d, 10s after %d was committed", got.Data, got.Revision, doc.Revision)
		}
	}
}

// TestReadYourWrites: concurrent writers through the cache and through
// another handle; after each write through the cache, a Get returns that
// revision or a later one.
func TestReadYourWrites(t *testing.T) {
	raw := openSQLite(t, t.TempDir())
	c := wrap(t, raw, 2000) // small: evictions race with reads too
	defer c.Close()
	n := 300
	if testing.Short() {
		n = 100
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range n {
				key := store.Key{Topic: "k" + strconv.Itoa(i%3), Principal: "p" + strconv.Itoa(i%5)}
				if w == 3 { // the other handle
					if _, err := raw.Update(t.Context(), key, "", set(strconv.Itoa(i))); err != nil {
						t.Error(err)
					}
					continue
				}
				doc, err := c.Update(t.Context(), key, "", set(strconv.Itoa(i)))
				if err != nil {
					t.Error(err)
					return
				}
				got, err := c.Get(t.Context(), key)
				if err != nil {
					t.Error(err)
					return
				}
				if got.Revision < doc.Revision {
					t.Errorf("Get after writing %d returned %d", doc.Revision, got.Revision)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestRestart: a cache over reopened data serves what was committed
// before, including writes that never went through a cache.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	raw := openSQLite(t, dir)
	c := wrap(t, raw, testBytes)
	key := store.Key{Topic: "doc"}
	if _, err := c.Update(t.Context(), key, "", set("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	want, err := raw.Update(t.Context(), key, "", set("2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(t.Context(), key); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close = %v, want %v", err, store.ErrClosed)
	}
	c = wrap(t, openSQLite(t, dir), testBytes)
	defer c.Close()
	for range 2 {
		got, err := c.Get(t.Context(), key)
		if err != nil || got.Revision != want.Revision || string(got.Data) != "2" {
			t.Fatalf("Get after restart = %s at %d, %v; want 2 at %d", got.Data, got.Revision, err, want.Revision)
		}
	}
}

// TestBound: the cache never holds more than its bound, and a document
// larger than the bound is served from the backend.
func TestBound(t *testing.T) {
	c := wrap(t, openSQLite(t, t.TempDir()), 4096)
	defer c.Close()
	big := `"` + string(make([]byte, 8000)) + `"`
	for i := range 50 {
		key := store.Key{Topic: "k", Principal: strconv.Itoa(i)}
		data := strconv.Itoa(i)
		if i%10 == 0 {
			data = big
		}
		if _, err := c.Update(t.Context(), key, "", set(data)); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Get(t.Context(), key); err != nil || string(got.Data) != data {
			t.Fatalf("Get(%s) = %.20s, %v", key, got.Data, err)
		}
		if s := c.Stats(); s.Bytes > 4096 {
			t.Fatalf("cache holds %d bytes, bound 4096", s.Bytes)
		}
	}
	if s := c.Stats(); s.Documents == 0 {
		t.Errorf("no document cached: %+v", s)
	}
}
