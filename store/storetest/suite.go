package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
)

func testInfo(t *testing.T, h Harness) {
	before := time.Now().UnixMicro()
	s := h.Open(t, time.Now)
	info := s.Info()

	// Every revision, the initial one included, must outrank whatever a
	// predecessor of this store issued before it was created.
	if info.Initial <= store.Revision(before) {
		t.Errorf("Initial = %d, want > %d (µs before Open)", info.Initial, before)
	}
	if info.Epoch == "" {
		t.Error("Epoch is empty")
	}
	// The epoch is the first half of a cursor, so it must survive the
	// round trip through the wire form.
	c := store.Cursor{Epoch: info.Epoch, Revision: info.Initial}
	if got, err := store.ParseCursor(c.String()); err != nil || got != c {
		t.Errorf("cursor %q round trip = %+v, %v; want %+v", c, got, err, c)
	}
	if again := s.Info(); again != info {
		t.Errorf("Info changed from %+v to %+v", info, again)
	}
	if other := h.Open(t, time.Now).Info(); other.Epoch == info.Epoch {
		t.Errorf("two new stores share the epoch %q", info.Epoch)
	}
	if head := mustHead(t, s); head != info.Initial {
		t.Errorf("head of an empty store = %d, want Initial %d", head, info.Initial)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testGetNeverWritten(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	for _, key := range []store.Key{
		{Topic: "t"},
		{Topic: "t", Principal: "alice"},
		{Topic: "other"},
	} {
		t.Run(key.String(), func(t *testing.T) {
			checkDoc(t, "Get", mustGet(t, s, key), store.Document{Key: key, Revision: s.Info().Initial})
		})
	}
}

func testUpdate(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	key := store.Key{Topic: "doc"}
	initial := store.Document{Key: key, Revision: s.Info().Initial}

	before := time.UnixMicro(time.Now().UnixMicro())
	var seen []store.Document
	doc := mustUpdate(t, s, key, "src-1", func(cur store.Document) ([]byte, error) {
		seen = append(seen, cur)
		return []byte(`{"n":1}`), nil
	})
	after := time.Now()
	if len(seen) == 0 {
		t.Fatal("UpdateFunc was not called")
	}
	checkDoc(t, "UpdateFunc's current document on the first write", seen[0], initial)
	if doc.Key != key || string(doc.Data) != `{"n":1}` || doc.SourceID != "src-1" {
		t.Errorf("Update returned %s", fmtDoc(doc))
	}
	if doc.Revision <= initial.Revision {
		t.Errorf("first revision %d, want > Initial %d", doc.Revision, initial.Revision)
	}
	if doc.Time.Before(before) || doc.Time.After(after) {
		t.Errorf("commit time %v, want within [%v, %v]", doc.Time, before, after)
	}
	checkDoc(t, "Get after the first Update", mustGet(t, s, key), doc)

	seen = nil
	doc2 := mustUpdate(t, s, key, "", func(cur store.Document) ([]byte, error) {
		seen = append(seen, cur)
		return []byte(`{"n":2}`), nil
	})
	if len(seen) == 0 {
		t.Fatal("UpdateFunc was not called")
	}
	checkDoc(t, "UpdateFunc's current document on the second write", seen[len(seen)-1], doc)
	if doc2.Revision <= doc.Revision {
		t.Errorf("second revision %d, want > %d", doc2.Revision, doc.Revision)
	}
	// The source id belongs to the write, not to the document.
	if doc2.SourceID != "" || string(doc2.Data) != `{"n":2}` {
		t.Errorf("second Update returned %s", fmtDoc(doc2))
	}
	checkDoc(t, "Get after the second Update", mustGet(t, s, key), doc2)
}

func testUpdateAlwaysCommits(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	a, b := store.Key{Topic: "a"}, store.Key{Topic: "b"}
	var last store.Revision
	// Identical data still commits, and revisions are one sequence across
	// keys: they are the store's total order.
	for i, key := range []store.Key{a, a, b, a, b, b} {
		doc := mustUpdate(t, s, key, "", write(`{"same":true}`))
		if doc.Revision <= last {
			t.Fatalf("write %d to %s: revision %d, want > %d", i, key, doc.Revision, last)
		}
		last = doc.Revision
		checkDoc(t, "Get", mustGet(t, s, key), doc)
	}
	if head := mustHead(t, s); head != last {
		t.Errorf("head = %d, want the last revision %d", head, last)
	}
}

func testUpdateError(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	written, fresh := store.Key{Topic: "written"}, store.Key{Topic: "fresh"}
	prev := mustUpdate(t, s, written, "s", write(`{"v":1}`))
	head := mustHead(t, s)

	for _, tt := range []struct {
		name string
		key  store.Key
		fn   store.UpdateFunc
	}{
		{"written/error", written, func(store.Document) ([]byte, error) { return nil, errBoom }},
		{"written/data and error", written, func(store.Document) ([]byte, error) { return []byte(`{"v":2}`), errBoom }},
		{"written/wrapped error", written, func(store.Document) ([]byte, error) { return nil, fmt.Errorf("rule: %w", errBoom) }},
		{"fresh/error", fresh, func(store.Document) ([]byte, error) { return nil, errBoom }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Update(t.Context(), tt.key, "s2", tt.fn)
			if !errors.Is(err, errBoom) {
				t.Fatalf("Update error = %v, want %v", err, errBoom)
			}
			checkDoc(t, "Get written", mustGet(t, s, written), prev)
			checkDoc(t, "Get fresh", mustGet(t, s, fresh), store.Document{Key: fresh, Revision: s.Info().Initial})
			if got := mustHead(t, s); got != head {
				t.Errorf("head = %d, want %d", got, head)
			}
			checkChanges(t, "Since(head)", mustSince(t, s, head, 10), nil)
		})
	}
	if doc := mustUpdate(t, s, written, "", write(`{"v":3}`)); doc.Revision <= head {
		t.Errorf("revision after failed updates = %d, want > %d", doc.Revision, head)
	}
}

func testUpdateNoData(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	key := store.Key{Topic: "k"}
	prev := mustUpdate(t, s, key, "", write(`"x"`))
	// A document is a JSON value; nil data would read back as "never
	// written" at a revision that says otherwise.
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Update(t.Context(), key, "", func(store.Document) ([]byte, error) { return tt.data, nil })
			if err == nil {
				t.Fatal("Update committed no data")
			}
			checkDoc(t, "Get", mustGet(t, s, key), prev)
		})
	}
}

func testNoAliasing(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	key := store.Key{Topic: "k"}
	const want = `{"v":"original"}`
	in := []byte(want)
	doc := mustUpdate(t, s, key, "", func(store.Document) ([]byte, error) { return in, nil })
	// None of these slices may share memory with what the store keeps.
	in[2] = 'X'
	doc.Data[3] = 'Y'
	got := mustGet(t, s, key)
	got.Data[4] = 'Z'
	if _, err := s.Update(t.Context(), key, "", func(cur store.Document) ([]byte, error) {
		cur.Data[5] = 'W'
		return nil, errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatalf("Update error = %v, want %v", err, errBoom)
	}
	if got := mustGet(t, s, key); string(got.Data) != want {
		t.Errorf("stored data = %s, want %s", got.Data, want)
	}
}

func testPrincipals(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	keys := []store.Key{
		{Topic: "t"},
		{Topic: "t", Principal: "a"},
		{Topic: "t", Principal: "b"},
		// Its String is the same as {t a}'s; the store must not care.
		{Topic: "t@a"},
	}
	docs := make(map[store.Key]store.Document)
	for i, key := range keys {
		docs[key] = mustUpdate(t, s, key, "src-"+strconv.Itoa(i), write(strconv.Itoa(i)))
	}
	check := func(t *testing.T) {
		t.Helper()
		for _, key := range keys {
			checkDoc(t, "Get "+fmt.Sprintf("%q", key), mustGet(t, s, key), docs[key])
		}
		changes, _, err := s.Heads(t.Context(), keys)
		if err != nil {
			t.Fatalf("Heads: %v", err)
		}
		if len(changes) != len(keys) {
			t.Errorf("Heads returned %s, want %d changes", fmtChanges(changes), len(keys))
		}
		for _, c := range changes {
			if !sameChange(c, docs[c.Key].Change()) {
				t.Errorf("Heads: %s, want %s", fmtChanges([]store.Change{c}), fmtChanges([]store.Change{docs[c.Key].Change()}))
			}
		}
	}
	t.Run("written", check)
	docs[keys[1]] = mustUpdate(t, s, keys[1], "", write(`"a again"`))
	t.Run("one rewritten", check)
}

func testClock(t *testing.T, h Harness) {
	c := &clock{}
	s := h.Open(t, c.now)
	key := store.Key{Topic: "k"}
	ahead := time.Now().Add(time.Hour)
	// Each step sets the clock, writes, and expects exactly the revision
	// store.NextRevision gives: the clock when it is ahead of the head,
	// head+1 otherwise.
	var head store.Revision = s.Info().Initial
	for _, step := range []struct {
		name string
		now  time.Time
	}{
		// The head starts at Initial: even the first write outranks the
		// never-written state when the clock has gone back since creation.
		{"behind creation", time.Now().Add(-time.Hour)},
		{"ahead", ahead},
		{"backwards", ahead.Add(-2 * time.Hour)},
		{"stopped", ahead.Add(-2 * time.Hour)},
		{"before 1970", time.Unix(-1000, 0)},
		{"at 1970", time.Unix(0, 0)},
		{"ahead again", ahead.Add(time.Minute)},
	} {
		t.Run(step.name, func(t *testing.T) {
			c.set(step.now)
			doc := mustUpdate(t, s, key, "", increment)
			if want := store.NextRevision(head, step.now); doc.Revision != want {
				t.Errorf("revision = %d, want NextRevision(%d, %v) = %d", doc.Revision, head, step.now, want)
			}
			if doc.Revision <= head {
				t.Errorf("revision = %d, want > head %d", doc.Revision, head)
			}
			if want := time.UnixMicro(step.now.UnixMicro()); !doc.Time.Equal(want) {
				t.Errorf("commit time = %v, want the clock's %v", doc.Time, want)
			}
			head = doc.Revision
		})
	}
}

func testHeads(t *testing.T, h Harness) {
	t.Run("values", func(t *testing.T) {
		s := h.Open(t, time.Now)
		a, b, never := store.Key{Topic: "a"}, store.Key{Topic: "b", Principal: "p"}, store.Key{Topic: "never"}
		mustUpdate(t, s, a, "s-a1", write("1"))
		db := mustUpdate(t, s, b, "", write("2"))
		da := mustUpdate(t, s, a, "s-a2", write("3"))
		for _, tt := range []struct {
			name string
			keys []store.Key
			want []store.Change
		}{
			{"none", nil, nil},
			{"never written", []store.Key{never}, nil},
			{"all", []store.Key{a, b, never}, []store.Change{da.Change(), db.Change()}},
			{"duplicates", []store.Key{b, a, b, never, a}, []store.Change{da.Change(), db.Change()}},
			{"one", []store.Key{b}, []store.Change{db.Change()}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				changes, head, err := s.Heads(t.Context(), tt.keys)
				if err != nil {
					t.Fatalf("Heads: %v", err)
				}
				// Heads promises no order.
				byRevision := func(x, y store.Change) int { return cmp.Compare(x.Revision, y.Revision) }
				slices.SortFunc(changes, byRevision)
				slices.SortFunc(tt.want, byRevision)
				checkChanges(t, "changes", changes, tt.want)
				if head != da.Revision {
					t.Errorf("head = %d, want the last revision %d", head, da.Revision)
				}
			})
		}
	})

	t.Run("snapshot", func(t *testing.T) {
		// While a writer runs, every Heads answer must be one snapshot: no
		// change may be newer than the head it comes with, and the head
		// must be among the changes.
		s := h.Open(t, time.Now)
		keys := []store.Key{{Topic: "x"}, {Topic: "y"}}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 200 {
				if _, err := s.Update(t.Context(), keys[i%2], "", increment); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		}()
		for reads, stop := 0, false; !stop; reads++ {
			select {
			case <-done:
				stop = true // one last read after the writer finished
			default:
			}
			changes, head, err := s.Heads(t.Context(), keys)
			if err != nil {
				t.Errorf("Heads: %v", err)
				break
			}
			for _, c := range changes {
				if c.Revision > head {
					t.Errorf("read %d: change %s is after head %d", reads, fmtChanges([]store.Change{c}), head)
					stop = true
				}
			}
			// keys are all the written keys, so the head is one of their
			// changes.
			if len(changes) > 0 && !slices.ContainsFunc(changes, func(c store.Change) bool { return c.Revision == head }) {
				t.Errorf("read %d: head %d is none of the changes %s", reads, head, fmtChanges(changes))
				stop = true
			}
		}
		<-done
	})
}

func testSince(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	checkChanges(t, "Since on an empty store", mustSince(t, s, 0, 10), nil)

	a, b, c := store.Key{Topic: "a"}, store.Key{Topic: "b", Principal: "p"}, store.Key{Topic: "c"}
	a1 := mustUpdate(t, s, a, "s1", write("1"))
	b1 := mustUpdate(t, s, b, "", write("2"))
	a2 := mustUpdate(t, s, a, "s3", write("3"))
	c1 := mustUpdate(t, s, c, "s4", write("4"))
	// a appears once, at its latest change, in that change's place.
	all := []store.Change{b1.Change(), a2.Change(), c1.Change()}
	for _, tt := range []struct {
		name  string
		after store.Revision
		limit int
		want  []store.Change
	}{
		{"from zero", 0, 10, all},
		{"from before Initial", s.Info().Initial - 1, 10, all},
		{"after a superseded change", a1.Revision, 10, all},
		{"after b", b1.Revision, 10, all[1:]},
		{"after a", a2.Revision, 10, all[2:]},
		{"after the head", c1.Revision, 10, nil},
		{"far ahead", ^store.Revision(0), 10, nil},
		{"limit 2", 0, 2, all[:2]},
		{"limit 1", b1.Revision, 1, all[1:2]},
		{"limit exact", 0, 3, all},
		{"limit 0", 0, 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkChanges(t, fmt.Sprintf("Since(%d, %d)", tt.after, tt.limit), mustSince(t, s, tt.after, tt.limit), tt.want)
		})
	}
}

func testWait(t *testing.T, h Harness) {
	t.Run("already past", func(t *testing.T) {
		s := h.Open(t, time.Now)
		// An empty store's head is its Initial revision.
		for _, after := range []store.Revision{0, s.Info().Initial - 1} {
			if err := receive(t, "Wait", waitResult(t.Context(), s, after)); err != nil {
				t.Errorf("Wait(%d) on an empty store: %v", after, err)
			}
		}
		doc := mustUpdate(t, s, store.Key{Topic: "k"}, "", write("1"))
		if err := receive(t, "Wait", waitResult(t.Context(), s, doc.Revision-1)); err != nil {
			t.Errorf("Wait(head-1): %v", err)
		}
	})

	t.Run("blocks until a commit", func(t *testing.T) {
		s := h.Open(t, time.Now)
		head := mustUpdate(t, s, store.Key{Topic: "k"}, "", write("1")).Revision
		// Any number of waiters must be woken by one commit.
		var waiters []<-chan error
		for range 5 {
			waiters = append(waiters, waitResult(t.Context(), s, head))
		}
		for _, w := range waiters {
			pending(t, "Wait(head)", w)
		}
		// A failed Update commits nothing and wakes nobody.
		if _, err := s.Update(t.Context(), store.Key{Topic: "k"}, "", func(store.Document) ([]byte, error) { return nil, errBoom }); !errors.Is(err, errBoom) {
			t.Fatalf("Update error = %v, want %v", err, errBoom)
		}
		pending(t, "Wait(head) after a failed Update", waiters[0])

		doc := mustUpdate(t, s, store.Key{Topic: "other"}, "", write("2"))
		for i, w := range waiters {
			if err := receive(t, "Wait(head)", w); err != nil {
				t.Errorf("waiter %d: %v", i, err)
			}
		}
		if got := mustHead(t, s); got != doc.Revision {
			t.Errorf("head after wake-up = %d, want %d", got, doc.Revision)
		}
	})

	t.Run("context ends", func(t *testing.T) {
		s := h.Open(t, time.Now)
		head := mustHead(t, s)

		ctx, cancel := context.WithCancel(t.Context())
		w := waitResult(ctx, s, head)
		pending(t, "Wait(head)", w)
		cancel()
		if err := receive(t, "Wait after cancel", w); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait after cancel = %v, want %v", err, context.Canceled)
		}

		ctx, cancel = context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		if err := receive(t, "Wait with a deadline", waitResult(ctx, s, head)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait with a deadline = %v, want %v", err, context.DeadlineExceeded)
		}
	})
}

func testConcurrency(t *testing.T, h Harness) {
	const workers = 2
	perWorker := 1000
	if testing.Short() {
		perWorker = 100
	}

	t.Run("one key", func(t *testing.T) {
		s := h.Open(t, time.Now)
		key := store.Key{Topic: "counter"}
		// Each worker records which value it wrote at which revision.
		type commit struct {
			n   int
			rev store.Revision
		}
		results := make([][]commit, workers)
		start := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for range perWorker {
					doc, err := s.Update(t.Context(), key, "w"+strconv.Itoa(w), increment)
					if err != nil {
						t.Errorf("worker %d: Update: %v", w, err)
						return
					}
					n, err := strconv.Atoi(string(doc.Data))
					if err != nil {
						t.Errorf("worker %d: Update returned %q: %v", w, doc.Data, err)
						return
					}
					results[w] = append(results[w], commit{n, doc.Revision})
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		t.Logf("%d×%d read-modify-write updates of one key in %v (%v per update)",
			workers, perWorker, elapsed, elapsed/time.Duration(workers*perWorker))
		if t.Failed() {
			return
		}

		total := workers * perWorker
		doc := mustGet(t, s, key)
		if string(doc.Data) != strconv.Itoa(total) {
			t.Fatalf("counter = %s, want %d: increments were lost", doc.Data, total)
		}
		// Value n was written by the n-th commit, so ordering the commits by
		// value must give 1..total with strictly increasing revisions.
		all := slices.Concat(results...)
		slices.SortFunc(all, func(a, b commit) int { return a.n - b.n })
		for i, c := range all {
			if c.n != i+1 {
				t.Fatalf("commit %d wrote %d, want %d", i, c.n, i+1)
			}
			if i > 0 && c.rev <= all[i-1].rev {
				t.Fatalf("value %d has revision %d, not after value %d's %d", c.n, c.rev, all[i-1].n, all[i-1].rev)
			}
		}
		if last := all[len(all)-1].rev; doc.Revision != last {
			t.Errorf("document revision = %d, want the last commit's %d", doc.Revision, last)
		}
	})

	t.Run("many keys", func(t *testing.T) {
		s := h.Open(t, time.Now)
		n := perWorker / 10
		revs := make([][]store.Revision, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range n {
					key := store.Key{Topic: "k" + strconv.Itoa(i%3), Principal: "w" + strconv.Itoa(w)}
					doc, err := s.Update(t.Context(), key, "", increment)
					if err != nil {
						t.Errorf("worker %d: Update: %v", w, err)
						return
					}
					revs[w] = append(revs[w], doc.Revision)
				}
			})
		}
		wg.Wait()
		all := slices.Concat(revs...)
		slices.Sort(all)
		if len(slices.Compact(all)) != workers*n {
			t.Errorf("%d updates across keys gave %d distinct revisions", workers*n, len(slices.Compact(all)))
		}
	})
}

func testDurability(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("the backend does not keep data across Close")
	}
	c := &clock{}
	s := h.Open(t, c.now)
	info := s.Info()
	keys := []store.Key{{Topic: "a"}, {Topic: "b", Principal: "p"}, {Topic: "b", Principal: "q"}, {Topic: "c"}}
	never := store.Key{Topic: "never"}
	docs := make(map[store.Key]store.Document)
	for i, key := range append(keys, keys[0], keys[2]) {
		docs[key] = mustUpdate(t, s, key, "src-"+strconv.Itoa(i), write(`{"i":`+strconv.Itoa(i)+`}`))
	}
	changes := mustSince(t, s, 0, 100)
	head := mustHead(t, s)

	// reopen closes s and opens its data again with the clock at now.
	reopen := func(t *testing.T, s store.Backend, now time.Time) store.Backend {
		t.Helper()
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		c.set(now)
		return h.Reopen(t, s, c.now)
	}
	check := func(t *testing.T, s store.Backend) {
		t.Helper()
		if got := s.Info(); got != info {
			t.Errorf("Info = %+v, want %+v", got, info)
		}
		for _, key := range keys {
			checkDoc(t, "Get "+key.String(), mustGet(t, s, key), docs[key])
		}
		checkDoc(t, "Get never written", mustGet(t, s, never), store.Document{Key: never, Revision: info.Initial})
		checkChanges(t, "Since(0)", mustSince(t, s, 0, 100), changes)
		if got := mustHead(t, s); got != head {
			t.Errorf("head = %d, want %d", got, head)
		}
		// Wait must know the head without a commit in this process.
		if err := receive(t, "Wait(head-1)", waitResult(t.Context(), s, head-1)); err != nil {
			t.Errorf("Wait(head-1): %v", err)
		}
	}

	// The clock went back an hour while the store was closed.
	s = reopen(t, s, time.Now().Add(-time.Hour))
	t.Run("reopened", func(t *testing.T) { check(t, s) })
	t.Run("next revision with the clock behind", func(t *testing.T) {
		doc := mustUpdate(t, s, keys[0], "after", write(`"after"`))
		if doc.Revision != head+1 {
			t.Errorf("revision = %d, want head+1 = %d", doc.Revision, head+1)
		}
		docs[keys[0]], head = doc, doc.Revision
		changes = append(slices.DeleteFunc(changes, func(c store.Change) bool { return c.Key == keys[0] }), doc.Change())
	})

	ahead := time.Now().Add(time.Hour)
	s = reopen(t, s, ahead)
	t.Run("reopened again", func(t *testing.T) { check(t, s) })
	t.Run("next revision with the clock ahead", func(t *testing.T) {
		doc := mustUpdate(t, s, never, "", write("1"))
		if want := store.Revision(ahead.UnixMicro()); doc.Revision != want {
			t.Errorf("revision = %d, want the clock's %d", doc.Revision, want)
		}
	})
}

func testClosed(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	info := s.Info()
	key := store.Key{Topic: "k"}
	head := mustUpdate(t, s, key, "", write("1")).Revision
	waiter := waitResult(t.Context(), s, head)
	pending(t, "Wait(head)", waiter)

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// A waiter blocked across Close must not stay blocked forever.
	if err := receive(t, "Wait blocked across Close", waiter); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Wait blocked across Close = %v, want %v", err, store.ErrClosed)
	}
	if got := s.Info(); got != info {
		t.Errorf("Info after Close = %+v, want %+v", got, info)
	}

	for _, tt := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, key); return err }},
		{"Update", func(ctx context.Context) error {
			_, err := s.Update(ctx, key, "", func(store.Document) ([]byte, error) {
				t.Error("UpdateFunc called after Close")
				return []byte("2"), nil
			})
			return err
		}},
		{"Heads", func(ctx context.Context) error { _, _, err := s.Heads(ctx, []store.Key{key}); return err }},
		{"Since", func(ctx context.Context) error { _, err := s.Since(ctx, 0, 10); return err }},
		{"Wait behind", func(ctx context.Context) error { return s.Wait(ctx, head) }},
		{"Wait ahead", func(ctx context.Context) error { return s.Wait(ctx, 0) }},
		{"Ping", func(ctx context.Context) error { return s.Ping(ctx) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := receive(t, tt.name, run(t.Context(), tt.call)); !errors.Is(err, store.ErrClosed) {
				t.Errorf("%s after Close = %v, want %v", tt.name, err, store.ErrClosed)
			}
		})
	}
}

func testCancelled(t *testing.T, h Harness) {
	s := h.Open(t, time.Now)
	written, fresh := store.Key{Topic: "written"}, store.Key{Topic: "fresh"}
	prev := mustUpdate(t, s, written, "", write("1"))
	head := mustHead(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	for _, tt := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, written); return err }},
		{"Update written", func(ctx context.Context) error { _, err := s.Update(ctx, written, "", write("2")); return err }},
		{"Update fresh", func(ctx context.Context) error { _, err := s.Update(ctx, fresh, "", write("2")); return err }},
		{"Heads", func(ctx context.Context) error { _, _, err := s.Heads(ctx, []store.Key{written}); return err }},
		{"Since", func(ctx context.Context) error { _, err := s.Since(ctx, 0, 10); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context = %v, want %v", tt.name, err, context.Canceled)
			}
			checkDoc(t, "Get written", mustGet(t, s, written), prev)
			checkDoc(t, "Get fresh", mustGet(t, s, fresh), store.Document{Key: fresh, Revision: s.Info().Initial})
			if got := mustHead(t, s); got != head {
				t.Errorf("head = %d, want %d", got, head)
			}
		})
	}
}

// run calls call in a goroutine, so that a backend that blocks where it
// should fail fails the test instead of hanging it.
func run(ctx context.Context, call func(ctx context.Context) error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- call(ctx) }()
	return ch
}
