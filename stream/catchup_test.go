package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
)

// gated wraps a store so that a chosen Heads call (the follower's start-up
// read, keys nil, or a stream's catch-up read) waits until the test lets
// it: changes committed meanwhile race with it exactly as they can in
// production.
type gated struct {
	*memory.Store
	follower bool // gate the follower's read (else streams' reads)
	before   bool // wait before reading (else after)
	entered  chan struct{}
	release  chan struct{}
}

func (g *gated) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	gate := (keys == nil) == g.follower
	if gate && g.before {
		g.entered <- struct{}{}
		<-g.release
	}
	changes, head, err := g.Store.Heads(ctx, keys)
	if gate && !g.before {
		g.entered <- struct{}{}
		<-g.release
	}
	return changes, head, err
}

func newGated(st *memory.Store, follower, before bool) *gated {
	return &gated{Store: st, follower: follower, before: before, entered: make(chan struct{}), release: make(chan struct{})}
}

type invalidation struct {
	Topic    string `json:"topic"`
	Revision string `json:"revision"`
}

func decode(t *testing.T, data string) invalidation {
	t.Helper()
	var inv invalidation
	if err := json.Unmarshal([]byte(data), &inv); err != nil {
		t.Fatalf("%q: %v", data, err)
	}
	return inv
}

func TestLiveChangesDuringCatchUpFollowTheReplay(t *testing.T) {
	st := memory.Open()
	src := newGated(st, false, false)
	th := startHub(t, src, Config{}).start()

	_, head, _ := st.Heads(context.Background(), nil)
	a1 := write(t, st, "a")

	c := th.open(keysQuery("a", "b"), "Last-Event-ID", cursorOf(st, head))
	<-src.entered // the catch-up has read: a@a1, head a1

	b2 := write(t, st, "b")
	a3 := write(t, st, "a")
	waitFor(t, "live changes held while catching up", func() bool { return th.hub.queued() == 2 })
	close(src.release)

	want := []struct {
		name string
		rev  store.Revision
	}{{"invalidation", a1.Revision}, {"invalidation", b2.Revision}, {"invalidation", a3.Revision}, {"ready", a3.Revision}}
	for i, w := range want {
		ev := c.next(t)
		if ev.Name != w.name || ev.ID != cursorOf(st, w.rev) {
			t.Fatalf("event %d = %+v, want %s with id %s", i, ev, w.name, cursorOf(st, w.rev))
		}
	}
}

// TestStartupHeadRace: the follower's first read of the head must come
// before any stream catches up, or a change committed between a stream's
// catch-up and that read is never dispatched to it.
func TestStartupHeadRace(t *testing.T) {
	st := memory.Open()
	src := newGated(st, true, true)
	th := startHub(t, src, Config{}).start()
	<-src.entered // the follower is about to read its start

	opened := make(chan *client, 1)
	go func() { opened <- th.open(keysQuery("a")) }()
	// The stream is admitted but must not catch up before the follower
	// has read its start: give it every chance to do so wrongly.
	waitFor(t, "the stream to be admitted", func() bool { return th.hub.Stats().Streams == 1 })
	w1 := write(t, st, "a")
	close(src.release)
	c := <-opened

	// Either the ready cursor already covers w1 (the client refreshes on
	// ready), or w1 arrives as an invalidation; a later write must arrive.
	ev := c.next(t)
	if ev.Name != "ready" {
		t.Fatalf("first event %+v", ev)
	}
	if ev.ID != cursorOf(st, w1.Revision) {
		ev = c.next(t)
		if inv := decode(t, ev.Data); ev.Name != "invalidation" || inv.Revision != w1.Revision.String() {
			t.Fatalf("the change committed during start-up was lost: got %+v", ev)
		}
	}
	w2 := write(t, st, "a")
	if ev := c.next(t); decode(t, ev.Data).Revision != w2.Revision.String() {
		t.Fatalf("got %+v, want revision %s", ev, w2.Revision)
	}
}

// TestReplayDoesNotCountAgainstTheQueue subscribes one stream to 1,000
// topics and resumes it from a foreign cursor: every topic is replayed
// and the stream is not evicted, though the live queue holds 64.
func TestReplayDoesNotCountAgainstTheQueue(t *testing.T) {
	st := memory.Open()
	th := startHub(t, st, Config{Queue: 64}).start()
	var keys []string
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("t%04d", i))
		if i%2 == 0 {
			write(t, st, keys[i])
		}
	}
	c := th.open(keysQuery(keys...), "Last-Event-ID", "another-store.42")
	seen := map[string]bool{}
	for {
		ev := c.next(t)
		if ev.Name == "ready" {
			break
		}
		seen[decode(t, ev.Data).Topic] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("replayed %d topics, want 1000", len(seen))
	}
	if n := th.hub.Stats().Evicted; n != 0 {
		t.Fatalf("evicted %d", n)
	}
	// Still live.
	w := write(t, st, keys[7])
	if ev := c.next(t); decode(t, ev.Data).Revision != w.Revision.String() {
		t.Fatalf("got %+v", ev)
	}
}

// TestReplayCutAnywhereResumes cuts a replay after every possible number
// of events, never-written documents included, and resumes from the last
// id received: the union of what the client saw always covers every
// document at its current revision.
func TestReplayCutAnywhereResumes(t *testing.T) {
	st := memory.Open()
	th := startHub(t, st, Config{}).start()
	keys := []string{"a", "b", "c", "d", "e", "f"}
	want := map[string]string{}
	for _, k := range []string{"b", "e", "b"} { // a, c, d, f never written
		want[k] = write(t, st, k).Revision.String()
	}
	for _, k := range keys {
		if want[k] == "" {
			want[k] = st.Info().Initial.String()
		}
	}
	q := keysQuery(keys...)
	for _, start := range []string{"garbage", cursorOf(st, st.Info().Initial-1)} {
		full := 0
		for cut := 0; cut == 0 || cut < full; cut++ {
			got := map[string]string{}
			cursor := start
			for round := 0; ; round++ {
				if round > len(keys)+2 {
					t.Fatalf("start %s cut %d: resuming does not converge", start, cut)
				}
				c := th.open(q, "Last-Event-ID", cursor)
				n, done := 0, false
				for {
					ev := c.next(t)
					if ev.Name == "ready" {
						done = true
						break
					}
					inv := decode(t, ev.Data)
					got[inv.Topic] = inv.Revision
					cursor = ev.ID
					if n++; round == 0 && n == cut {
						break
					}
				}
				c.close()
				if round == 0 && cut == 0 {
					full = n
				}
				if done {
					break
				}
			}
			for _, k := range keys {
				if got[k] != want[k] {
					t.Fatalf("start %s cut %d: %s at %q, want %q (got %v)", start, cut, k, got[k], want[k], got)
				}
			}
		}
		if full != len(keys) {
			t.Fatalf("start %s: full replay has %d events, want %d", start, full, len(keys))
		}
	}
	if !strings.Contains(cursorOf(st, st.Info().Initial), ".") {
		t.Fatal("cursor form")
	}
}
