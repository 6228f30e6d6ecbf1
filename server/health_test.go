package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/store/sqlite"
)

// failing is a store whose storage can be made to fail, as a full disk or
// a dead database would: every write and ping fails with
// store.ErrUnavailable, and a failed write changes nothing.
type failing struct {
	*memory.Store
	broken atomic.Bool
}

func (f *failing) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	if f.broken.Load() {
		return store.Document{}, fmt.Errorf("memory: update %s: commit: %w: write /var/lib/pinion/pinion.db-wal: no space left on device", key, store.ErrUnavailable)
	}
	return f.Store.Update(ctx, key, sourceID, fn)
}

func (f *failing) Ping(ctx context.Context) error {
	if f.broken.Load() {
		return fmt.Errorf("memory: ping: %w: disk I/O error", store.ErrUnavailable)
	}
	return f.Store.Ping(ctx)
}

const fullSettings = `{"theme":"dark","language":"en","fontSize":18,"notifications":true,"compactMode":false,"reducedMotion":false}`

// checkUnavailable asserts a 503 problem with Retry-After that says
// nothing of the server's internals.
func checkUnavailable(t *testing.T, r reply, what string) {
	t.Helper()
	if r.status != 503 || r.header.Get("Content-Type") != "application/problem+json" || r.header.Get("Retry-After") == "" {
		t.Fatalf("%s: %d %q Retry-After %q: %s", what, r.status, r.header.Get("Content-Type"), r.header.Get("Retry-After"), r.body)
	}
	var p problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || p.Status != 503 {
		t.Fatalf("%s: problem %s (%v)", what, r.body, err)
	}
	for _, leak := range []string{"space", "disk", "wal", "/var", "memory:", "sqlite", "I/O"} {
		if strings.Contains(r.body, leak) {
			t.Fatalf("%s: the problem reveals internals (%q): %s", what, leak, r.body)
		}
	}
}

// A store that cannot commit: /readyz fails, writes answer a 503 problem
// (never a 500), nothing changes and no invalidation goes out; when the
// store recovers, so does everything, with no restart.
func TestStoreFailureIsA503AndRecovers(t *testing.T) {
	st := &failing{Store: memory.Open()}
	h := start(t, st, server.Config{})
	b := h.browser()
	before := b.do("PUT", "/api/topics/app-settings", fullSettings, "Content-Type", "application/json").snapshot(t)
	if r := b.do("GET", "/readyz", ""); r.status != 200 {
		t.Fatalf("readyz while healthy: %d", r.status)
	}
	events := b.stream("/api/events?topic=app-settings")
	defer events.close()
	for ev := events.next(t); ev.name != "ready"; ev = events.next(t) {
	}

	st.broken.Store(true)
	checkUnavailable(t, b.do("GET", "/readyz", ""), "readyz")
	checkUnavailable(t, b.do("PATCH", "/api/topics/app-settings", `{"fontSize":30}`, "Content-Type", "application/merge-patch+json"), "PATCH")
	checkUnavailable(t, b.do("POST", "/api/topics/cart/actions/add-item", `{"sku":"MUG","name":"Mug","priceCents":1200,"qty":1}`, "Content-Type", "application/json"), "action")
	checkUnavailable(t, b.do("DELETE", "/api/topics/app-settings", ""), "DELETE")
	if got := b.do("GET", "/api/topics/app-settings", "").snapshot(t); got.Revision != before.Revision || string(got.Data) != string(before.Data) {
		t.Fatalf("a failed write is visible: %+v, before %+v", got, before)
	}

	st.broken.Store(false)
	if r := b.do("GET", "/readyz", ""); r.status != 200 {
		t.Fatalf("readyz after recovery: %d %s", r.status, r.body)
	}
	after := b.do("PATCH", "/api/topics/app-settings", `{"fontSize":30}`, "Content-Type", "application/merge-patch+json").snapshot(t)
	// The first invalidation after the outage is the recovered write's:
	// the failed ones raised none.
	ev := events.next(t)
	for ev.name != "invalidation" {
		ev = events.next(t)
	}
	if !strings.Contains(ev.data, `"revision":"`+after.Revision+`"`) {
		t.Fatalf("first invalidation after the outage %q, want revision %s", ev.data, after.Revision)
	}
}

// The same with a real full disk: the embedded store on a 1 MiB tmpfs
// that is then filled. Needs permission to mount (root, as in CI);
// skipped otherwise.
func TestDiskFullIsA503AndRecovers(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, st, server.Config{})
	t.Cleanup(func() { st.Close() })
	b := h.browser()
	good := b.do("PATCH", "/api/topics/user-preferences", `{"displayName":"before"}`, "Content-Type", "application/merge-patch+json").snapshot(t)

	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errorsIsNoSpace(err) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	f.Close()

	// SQLite may still fit a few commits in space its log file already
	// has; then the disk is full for it too.
	var failed reply
	for i := 0; i < 2000; i++ {
		r := b.do("PATCH", "/api/topics/user-preferences", fmt.Sprintf(`{"displayName":"%s"}`, strings.Repeat("x", 40+i%20)), "Content-Type", "application/merge-patch+json")
		if r.status == 200 {
			good = r.snapshot(t)
			continue
		}
		failed = r
		break
	}
	checkUnavailable(t, failed, "write on a full disk")
	checkUnavailable(t, b.do("GET", "/readyz", ""), "readyz on a full disk")
	if got := b.do("GET", "/api/topics/user-preferences", "").snapshot(t); got.Revision != good.Revision {
		t.Fatalf("after the failed write, revision %s, want the last good one %s", got.Revision, good.Revision)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if r := b.do("GET", "/readyz", ""); r.status != 200 {
		t.Fatalf("readyz after freeing the disk: %d %s", r.status, r.body)
	}
	b.do("PATCH", "/api/topics/user-preferences", `{"displayName":"back"}`, "Content-Type", "application/merge-patch+json").snapshot(t)
}

func errorsIsNoSpace(err error) bool {
	var errno syscall.Errno
	for e := err; e != nil; {
		if en, ok := e.(syscall.Errno); ok {
			errno = en
			break
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return errno == syscall.ENOSPC
}
