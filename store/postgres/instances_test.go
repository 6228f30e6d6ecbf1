package postgres_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/postgres"
	"github.com/pinionkit/pinion/store/postgres/pgtest"
)

// TestCursorOrderAcrossInstances interleaves write transactions of two
// instances (each UpdateFunc sleeps inside its transaction, so that
// transactions overlap as much as they can) while a follower on each
// instance reads the feed by cursor, the way a stream hub does. Every
// write is to a new document, so the feed cannot coalesce anything away:
// if any change ever committed with a revision below one a follower had
// already passed, that follower would miss it.
func TestCursorOrderAcrossInstances(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a, b := open(t, dbURL), open(t, dbURL)
	if a.Info() != b.Info() {
		t.Fatalf("two instances, two identities: %+v, %+v", a.Info(), b.Info())
	}
	const writers, writes = 4, 40

	ctx, stop := context.WithCancel(t.Context())
	type seen struct {
		mu   sync.Mutex
		revs []store.Revision
	}
	// Each follower starts from the empty store's head, read before any
	// write.
	follow := func(s *postgres.Store, after store.Revision, out *seen) error {
		for {
			changes, err := s.Since(ctx, after, 100)
			if err != nil {
				return err
			}
			for _, c := range changes {
				if c.Revision <= after {
					t.Errorf("Since(%d) returned %d", after, c.Revision)
				}
				after = c.Revision
				out.mu.Lock()
				out.revs = append(out.revs, c.Revision)
				out.mu.Unlock()
			}
			if len(changes) == 100 {
				continue
			}
			if err := s.Wait(ctx, after); err != nil {
				return err
			}
		}
	}
	var followers sync.WaitGroup
	seenA, seenB := &seen{}, &seen{}
	for _, f := range []struct {
		s   *postgres.Store
		out *seen
	}{{a, seenA}, {b, seenB}} {
		_, head, err := f.s.Heads(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		followers.Go(func() {
			if err := follow(f.s, head, f.out); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("follower: %v", err)
			}
		})
	}

	var mu sync.Mutex
	var acked []store.Revision
	var wg sync.WaitGroup
	for i, s := range []*postgres.Store{a, b} {
		for w := range writers {
			wg.Go(func() {
				for n := range writes {
					key := store.Key{Topic: "k", Principal: strconv.Itoa(i) + "-" + strconv.Itoa(w) + "-" + strconv.Itoa(n)}
					doc, err := s.Update(ctx, key, "", func(store.Document) ([]byte, error) {
						time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond)
						return []byte("1"), nil
					})
					if err != nil {
						t.Errorf("Update: %v", err)
						return
					}
					mu.Lock()
					acked = append(acked, doc.Revision)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	slices.Sort(acked)
	last := acked[len(acked)-1]
	for _, out := range []*seen{seenA, seenB} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			out.mu.Lock()
			n := len(out.revs)
			done := n > 0 && out.revs[n-1] >= last
			out.mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a follower saw %d of %d changes", n, len(acked))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	stop()
	followers.Wait()
	for name, out := range map[string]*seen{"A": seenA, "B": seenB} {
		if !slices.Equal(out.revs, acked) {
			missing := 0
			for _, r := range acked {
				if _, ok := slices.BinarySearch(out.revs, r); !ok {
					missing++
				}
			}
			t.Errorf("follower on %s saw %d changes, %d acknowledged, %d missing", name, len(out.revs), len(acked), missing)
		}
	}
}

// TestStartTogether: instances that start at once on a new schema migrate
// it once and share one identity and one set of secrets.
func TestStartTogether(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	const n = 5
	infos := make([]store.Info, n)
	secrets := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dbURL)
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				return
			}
			defer s.Close()
			infos[i] = s.Info()
			// Each proposes its own secret; all must end up with one.
			secret, err := s.SharedSecret(t.Context(), "k", func() []byte { return []byte("from " + strconv.Itoa(i)) })
			if err != nil {
				t.Errorf("SharedSecret %d: %v", i, err)
			}
			secrets[i] = string(secret)
		})
	}
	wg.Wait()
	for i := range infos {
		if infos[i] != infos[0] || secrets[i] != secrets[0] || secrets[i] == "" {
			t.Errorf("instance %d: %+v %q, instance 0: %+v %q", i, infos[i], secrets[i], infos[0], secrets[0])
		}
	}
}

// TestWaitHearsOtherInstance: a commit on one instance wakes Wait on the
// other.
func TestWaitHearsOtherInstance(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a, b := open(t, dbURL), open(t, dbURL)
	_, head, err := b.Heads(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	woke := make(chan error, 1)
	go func() { woke <- b.Wait(t.Context(), head) }()
	doc, err := a.Update(t.Context(), store.Key{Topic: "t"}, "", func(store.Document) ([]byte, error) { return []byte("1"), nil })
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-woke:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait on B did not hear A's commit")
	}
	if got, err := b.Get(t.Context(), doc.Key); err != nil || got.Revision != doc.Revision {
		t.Fatalf("B reads %+v, %v; want revision %d", got, err, doc.Revision)
	}
}

// TestBatchIsolation: writes queued together share a transaction, but a
// write whose UpdateFunc fails (here every other one, and those whose
// precondition an earlier write of the same batch broke) affects no other.
func TestBatchIsolation(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	s := open(t, dbURL)
	key := store.Key{Topic: "shared"}
	errStale := errors.New("stale")
	base, err := s.Update(t.Context(), key, "", func(store.Document) ([]byte, error) { return []byte("0"), nil })
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	results := make([]error, n)
	revs := make([]store.Revision, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			k := store.Key{Topic: "own", Principal: strconv.Itoa(i)}
			fn := func(store.Document) ([]byte, error) {
				if i%2 == 1 {
					return nil, errBoom
				}
				return []byte(strconv.Itoa(i)), nil
			}
			if i%4 == 0 {
				// Conditional writes on one key, all expecting the base
				// revision: exactly one may win.
				k = key
				fn = func(cur store.Document) ([]byte, error) {
					if cur.Revision != base.Revision {
						return nil, errStale
					}
					return []byte(strconv.Itoa(i)), nil
				}
			}
			doc, err := s.Update(t.Context(), k, "", fn)
			results[i], revs[i] = err, doc.Revision
		})
	}
	close(start)
	wg.Wait()
	won := 0
	var committed []store.Revision
	for i, err := range results {
		switch {
		case i%4 == 0 && err == nil:
			won++
			committed = append(committed, revs[i])
		case i%4 == 0 && !errors.Is(err, errStale):
			t.Errorf("conditional write %d: %v", i, err)
		case i%2 == 1 && !errors.Is(err, errBoom):
			t.Errorf("failing write %d: %v, want the UpdateFunc's error", i, err)
		case i%4 == 2 && err != nil:
			t.Errorf("write %d: %v", i, err)
		case i%4 == 2:
			committed = append(committed, revs[i])
			if got, err := s.Get(t.Context(), store.Key{Topic: "own", Principal: strconv.Itoa(i)}); err != nil || string(got.Data) != strconv.Itoa(i) {
				t.Errorf("write %d reads back %+v, %v", i, got, err)
			}
		}
	}
	if won != 1 {
		t.Errorf("%d conditional writes on one revision won, want 1", won)
	}
	slices.Sort(committed)
	if len(slices.Compact(committed)) != n/4+1 {
		t.Errorf("committed revisions not distinct: %v", committed)
	}
	for i := 1; i < n; i += 2 {
		if got, err := s.Get(t.Context(), store.Key{Topic: "own", Principal: strconv.Itoa(i)}); err != nil || got.Written() {
			t.Errorf("failed write %d left %+v, %v", i, got, err)
		}
	}
}

var errBoom = errors.New("boom")
