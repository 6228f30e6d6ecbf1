package stream

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
)

func TestNonsenseConfigIsRefused(t *testing.T) {
	for _, cfg := range []Config{
		{Heartbeat: 3 * time.Nanosecond},
		{Heartbeat: -time.Second},
		{Retry: 48 * time.Hour},
		{WriteTimeout: time.Microsecond},
		{Queue: -1},
		{Queue: 1 << 30},
		{MaxStreams: -1},
		{MaxPerPrincipal: -5},
		{MaxPerAddress: -1},
	} {
		if _, err := New(memory.Open(), cfg); err == nil || !strings.HasPrefix(err.Error(), "stream: ") {
			t.Errorf("%+v: err %v", cfg, err)
		}
	}
	if _, err := New(memory.Open(), Config{}); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
}

// recorder is a slog.Handler that keeps records and, while blocked,
// blocks every caller: a stalled log output.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
	gate    chan struct{} // nil: never blocks
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.records = append(r.records, rec)
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return nil
}

func (r *recorder) count(level slog.Level, prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.records {
		if rec.Level == level && strings.HasPrefix(rec.Message, prefix) {
			n++
		}
	}
	return n
}

// TestLimitsRefuseAndLogSparingly: each limit refuses with
// ErrTooManyStreams, and a flood of refusals logs one warning.
func TestLimitsRefuseAndLogSparingly(t *testing.T) {
	rec := &recorder{}
	st := memory.Open()
	th := startHub(t, st, Config{MaxStreams: 3, MaxPerPrincipal: 2, Logger: slog.New(rec)}).start()
	th.open("key=a&p=x").next(t)
	th.open("key=a&p=x").next(t)
	if _, status := th.try("key=a&p=x"); status != http.StatusTooManyRequests {
		t.Fatalf("third stream of one principal: %d", status)
	}
	th.open("key=a&p=y").next(t)
	for range 50 {
		if _, status := th.try("key=a&p=z"); status != http.StatusTooManyRequests {
			t.Fatalf("fourth stream: %d", status)
		}
	}
	if n := th.hub.Stats().Refused; n != 51 {
		t.Fatalf("refused %d, want 51", n)
	}
	if n := rec.count(slog.LevelWarn, "stream: refused"); n != 1 {
		t.Fatalf("%d warnings for 51 refusals, want 1", n)
	}
}

func TestPerAddressLimit(t *testing.T) {
	th := startHub(t, memory.Open(), Config{MaxPerAddress: 1}).start()
	th.open("key=a&p=x").next(t)
	if _, status := th.try("key=a&p=y"); status != http.StatusTooManyRequests {
		t.Fatalf("second stream from one address: %d", status)
	}
}

// gateKey holds the catch-up read of streams subscribed to "gate" until
// release is closed.
type gateKey struct {
	*memory.Store
	release chan struct{}
}

func (g *gateKey) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	for _, k := range keys {
		if k.Topic == "gate" {
			<-g.release
		}
	}
	return g.Store.Heads(ctx, keys)
}

// TestNoLoggingUnderHubLocks stalls the log output, then makes the hub log
// an eviction and a refusal while another stream must keep receiving
// every change: if anything logged while holding the hub's lock, or on the
// follower, fan-out would stop with the log.
func TestNoLoggingUnderHubLocks(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	defer close(rec.gate)
	st := memory.Open()
	src := &gateKey{Store: st, release: make(chan struct{})}
	th := startHub(t, src, Config{Queue: 1, MaxStreams: 2, Logger: slog.New(rec)}).start()

	fast := th.open("key=a&p=fast")
	fast.next(t)
	// A stream whose catch-up is held cannot drain its queue: while it
	// catches up the queue holds catchUpQueue(1) changes, one more evicts it.
	slow := th.open("key=a&key=gate&p=slow")
	check := func() {
		t.Helper()
		w := write(t, st, "a")
		if ev := fast.next(t); decode(t, ev.Data).Revision != w.Revision.String() {
			t.Fatalf("got %+v, want revision %s", ev, w.Revision)
		}
	}
	for range catchUpQueue(1) + 1 {
		check()
	}
	waitFor(t, "the eviction", func() bool { return th.hub.Stats().Evicted == 1 })
	close(src.release)
	waitFor(t, "the eviction to be logged (and stall)", func() bool { return rec.count(slog.LevelInfo, "stream: disconnected") == 1 })
	check()
	go th.try("key=a&p=third") // refused: the slow stream still counts
	waitFor(t, "the refusal to be logged (and stall)", func() bool { return rec.count(slog.LevelWarn, "stream: refused") == 1 })
	check()
	if s := th.hub.Stats(); s.Streams != 2 || s.Refused != 1 {
		t.Fatalf("stats %+v", s)
	}
	_ = slow
}

// TestCatchUpKeepsChangesItCovers holds a stream's catch-up while more
// changes than its queue holds are committed on its topic (the hub's feed
// can deliver changes the catch-up is about to read anyway, after a burst
// or while the feed lags): the stream must not be evicted for them, and
// once caught up it is at the last change.
func TestCatchUpKeepsChangesItCovers(t *testing.T) {
	st := memory.Open()
	src := &gateKey{Store: st, release: make(chan struct{})}
	th := startHub(t, src, Config{Queue: 1}).start()
	fast := th.open("key=a&p=fast")
	fast.next(t)
	held := th.open("key=a&key=gate&p=held")
	var last store.Document
	for range 5 {
		last = write(t, st, "a")
		// The change reached fast, so it was offered to held too.
		if ev := fast.next(t); decode(t, ev.Data).Revision != last.Revision.String() {
			t.Fatalf("fast got %+v, want revision %s", ev, last.Revision)
		}
	}
	close(src.release)
	ev := held.next(t)
	for ev.Name == "invalidation" {
		ev = held.next(t)
	}
	if ev.Name != "ready" || ev.ID != cursorOf(st, last.Revision) {
		t.Fatalf("held stream: got %+v, want ready at %s", ev, cursorOf(st, last.Revision))
	}
	if n := th.hub.Stats().Evicted; n != 0 {
		t.Fatalf("evicted %d streams", n)
	}
	w := write(t, st, "a")
	if ev := held.next(t); decode(t, ev.Data).Revision != w.Revision.String() {
		t.Fatalf("held stream after ready: got %+v, want revision %s", ev, w.Revision)
	}
}
