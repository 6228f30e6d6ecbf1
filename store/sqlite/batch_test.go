package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
)

// batched runs the writes as one group commit: a first write holds the
// committer inside its transaction until every other write is queued, so
// the next batch takes them all, in the order given.
func batched(t *testing.T, s *Store, writes []func() (store.Document, error)) ([]store.Document, []error) {
	t.Helper()
	started, release := make(chan struct{}), make(chan struct{})
	blocker := make(chan error, 1)
	go func() {
		_, err := s.Update(context.Background(), store.Key{Topic: "blocker"}, "", func(store.Document) ([]byte, error) {
			close(started)
			<-release
			return []byte("0"), nil
		})
		blocker <- err
	}()
	<-started
	docs, errs := make([]store.Document, len(writes)), make([]error, len(writes))
	done := make(chan int, len(writes))
	for i, w := range writes {
		go func() { docs[i], errs[i] = w(); done <- i }()
		// Queue them one at a time, so that queue order is slice order.
		waitFor(t, func() bool { return len(s.queue) == i+1 })
	}
	before := s.commits.Load()
	close(release)
	if err := <-blocker; err != nil {
		t.Fatalf("blocking write: %v", err)
	}
	for range writes {
		<-done
	}
	if got := s.commits.Load() - before; got != 2 {
		t.Errorf("%d commits for the blocking write and one batch, want 2", got)
	}
	return docs, errs
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
	}
}

var errRefused = errors.New("refused")

func TestBatchFailingWriteAffectsNoOther(t *testing.T) {
	s := openTest(t, t.TempDir())
	a, b := store.Key{Topic: "a"}, store.Key{Topic: "b"}
	incr := func(key store.Key) func() (store.Document, error) {
		return func() (store.Document, error) {
			return s.Update(t.Context(), key, "", func(cur store.Document) ([]byte, error) {
				n, _ := strconv.Atoi(string(cur.Data))
				return []byte(strconv.Itoa(n + 1)), nil
			})
		}
	}
	fail := func(key store.Key, err error) func() (store.Document, error) {
		return func() (store.Document, error) {
			return s.Update(t.Context(), key, "", func(store.Document) ([]byte, error) { return nil, err })
		}
	}
	panics := func() (store.Document, error) {
		return s.Update(t.Context(), a, "", func(store.Document) ([]byte, error) { panic("boom") })
	}
	empty := func() (store.Document, error) {
		return s.Update(t.Context(), b, "", func(store.Document) ([]byte, error) { return nil, nil })
	}
	docs, errs := batched(t, s, []func() (store.Document, error){
		incr(a), fail(a, errRefused), incr(b), panics, incr(a), empty, fail(b, errRefused), incr(b),
	})
	for i, want := range []string{"1", "", "1", "", "2", "", "", "2"} {
		if want == "" {
			if errs[i] == nil {
				t.Errorf("write %d succeeded, want it to fail", i)
			}
			continue
		}
		if errs[i] != nil || string(docs[i].Data) != want {
			t.Errorf("write %d = %q, %v; want %s", i, docs[i].Data, errs[i], want)
		}
	}
	if !errors.Is(errs[1], errRefused) || !errors.Is(errs[6], errRefused) {
		t.Errorf("refused writes returned %v and %v, want their own error unchanged", errs[1], errs[6])
	}
	if errs[3] == nil || !strings.Contains(errs[3].Error(), "panicked") {
		t.Errorf("panicking write returned %v", errs[3])
	}
	for key, want := range map[store.Key]string{a: "2", b: "2"} {
		doc, err := s.Get(t.Context(), key)
		if err != nil || string(doc.Data) != want {
			t.Errorf("Get(%s) = %q, %v; want %s", key, doc.Data, err, want)
		}
	}
}

// TestBatchPreconditionSeesEarlierWrite: a write whose precondition names
// the revision it read before the batch fails when an earlier write of the
// same batch moved the document, exactly as if the two had been committed
// one after the other.
func TestBatchPreconditionSeesEarlierWrite(t *testing.T) {
	s := openTest(t, t.TempDir())
	key := store.Key{Topic: "doc"}
	v0, err := s.Update(t.Context(), key, "", func(store.Document) ([]byte, error) { return []byte(`"v0"`), nil })
	if err != nil {
		t.Fatal(err)
	}
	ifMatch := func(rev store.Revision, data string) func() (store.Document, error) {
		return func() (store.Document, error) {
			return s.Update(t.Context(), key, "", func(cur store.Document) ([]byte, error) {
				if cur.Revision != rev {
					return nil, errRefused
				}
				return []byte(data), nil
			})
		}
	}
	docs, errs := batched(t, s, []func() (store.Document, error){
		ifMatch(v0.Revision, `"first"`),  // holds: v0 is current
		ifMatch(v0.Revision, `"second"`), // fails only because of the first
	})
	if errs[0] != nil {
		t.Fatalf("first write: %v", errs[0])
	}
	if !errors.Is(errs[1], errRefused) {
		t.Errorf("second write = %v, want its precondition to fail", errs[1])
	}
	docs2, errs2 := batched(t, s, []func() (store.Document, error){
		ifMatch(docs[0].Revision, `"third"`), // names the revision the batch before committed
	})
	if errs2[0] != nil {
		t.Errorf("write naming the committed revision: %v", errs2[0])
	}
	if got, _ := s.Get(t.Context(), key); string(got.Data) != `"third"` || got.Revision != docs2[0].Revision {
		t.Errorf("document = %s at %d, want \"third\" at %d", got.Data, got.Revision, docs2[0].Revision)
	}
}

// TestBatchRevisionOrder: the writes of a batch get increasing revisions
// in the order they were queued, the head is the last one, and the change
// feed lists them in that order.
func TestBatchRevisionOrder(t *testing.T) {
	s := openTest(t, t.TempDir())
	// A clock stuck in the past: revisions must still increase.
	stuck := time.Unix(1, 0)
	s.now = func() time.Time { return stuck }
	_, start, err := s.Heads(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var writes []func() (store.Document, error)
	for i := range 20 {
		key := store.Key{Topic: "k" + strconv.Itoa(i%4)}
		writes = append(writes, func() (store.Document, error) {
			return s.Update(t.Context(), key, "src"+strconv.Itoa(i), func(store.Document) ([]byte, error) {
				return []byte(strconv.Itoa(i)), nil
			})
		})
	}
	docs, errs := batched(t, s, writes)
	for i := range docs {
		if errs[i] != nil {
			t.Fatalf("write %d: %v", i, errs[i])
		}
		if i > 0 && docs[i].Revision <= docs[i-1].Revision {
			t.Errorf("write %d got revision %d, not after write %d's %d", i, docs[i].Revision, i-1, docs[i-1].Revision)
		}
	}
	_, head, err := s.Heads(t.Context(), nil)
	if err != nil || head != docs[len(docs)-1].Revision {
		t.Errorf("head = %d, %v; want the batch's last revision %d", head, err, docs[len(docs)-1].Revision)
	}
	changes, err := s.Since(t.Context(), start, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The blocker, then the last write of each of the four keys, in order.
	var got []string
	for _, c := range changes {
		got = append(got, c.SourceID)
	}
	if want := []string{"", "src16", "src17", "src18", "src19"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Since lists sources %q, want %q", got, want)
	}
}

// TestBatchCancelledWhileQueued: a write whose caller gave up while it was
// queued is not committed, and the rest of its batch is.
func TestBatchCancelledWhileQueued(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	gone := store.Key{Topic: "gone"}
	docs, errs := batched(t, s, []func() (store.Document, error){
		func() (store.Document, error) {
			return s.Update(ctx, gone, "", func(store.Document) ([]byte, error) { return []byte("1"), nil })
		},
		func() (store.Document, error) {
			cancel() // runs while the first is queued; this one is queued next
			return s.Update(t.Context(), store.Key{Topic: "kept"}, "", func(store.Document) ([]byte, error) { return []byte("1"), nil })
		},
	})
	if !errors.Is(errs[0], context.Canceled) {
		t.Errorf("cancelled write = %v, want %v", errs[0], context.Canceled)
	}
	if errs[1] != nil || string(docs[1].Data) != "1" {
		t.Errorf("other write = %q, %v", docs[1].Data, errs[1])
	}
	if doc, err := s.Get(t.Context(), gone); err != nil || doc.Written() {
		t.Errorf("cancelled write's document = %q, %v; want never written", doc.Data, err)
	}
}

// TestDirectoryLocked: a second store on a directory in use fails at Open
// and names the holder; once the first closes, the directory is free.
func TestDirectoryLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Open(t.Context(), dir)
	if err == nil {
		second.Close()
		t.Fatal("a second Open of a directory in use succeeded")
	}
	if want := "pid " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open error = %q, want it to say the directory is in use by %s", err, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, lockName)); err != nil {
		t.Errorf("lock file: %v", err)
	}
	openTest(t, dir)
}
