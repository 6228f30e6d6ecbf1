package stream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/internal/ssetest"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
)

// testHub runs a hub and a real HTTP server for it until the test ends.
// Streams subscribe to the keys named by repeated ?key= parameters, as
// principal ?p= (default "p").
type testHub struct {
	t   *testing.T
	hub *Hub
	url string
	srv *httptest.Server
}

func startHub(t *testing.T, src Source, cfg Config) *testHub {
	t.Helper()
	hub, err := New(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hub.Run(ctx)
	}()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var keys []store.Key
		for _, k := range r.URL.Query()["key"] {
			keys = append(keys, store.Key{Topic: k})
		}
		p := r.URL.Query().Get("p")
		if p == "" {
			p = "p"
		}
		err := hub.Serve(w, r, Subscription{Principal: p, Address: "a", Keys: keys, Cursor: r.Header.Get("Last-Event-ID")})
		if errors.Is(err, ErrTooManyStreams) {
			http.Error(w, err.Error(), http.StatusTooManyRequests)
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	th := &testHub{t: t, hub: hub, srv: srv}
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
	})
	return th
}

func (th *testHub) start() *testHub {
	th.srv.Start()
	th.url = th.srv.URL
	return th
}

func keysQuery(keys ...string) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("key=" + k)
	}
	return b.String()
}

// client is one SSE connection, parsed as a browser would.
type client struct {
	resp   *http.Response
	events chan ssetest.Event
	done   chan struct{}
	cancel context.CancelFunc
	mu     sync.Mutex
	err    error
}

// open starts a stream; headers alternate name, value.
func (th *testHub) open(query string, headers ...string) *client {
	th.t.Helper()
	c, status := th.try(query, headers...)
	if status != http.StatusOK {
		th.t.Fatalf("open stream: status %d", status)
	}
	return c
}

func (th *testHub) try(query string, headers ...string) (*client, int) {
	th.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, th.url+"/?"+query, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		th.t.Fatalf("open stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	c := &client{resp: resp, events: make(chan ssetest.Event, 100_000), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(c.done)
		defer close(c.events)
		err := ssetest.Read(resp.Body, func(e ssetest.Event) { c.events <- e })
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
	}()
	th.t.Cleanup(c.close)
	return c, resp.StatusCode
}

func (c *client) close() {
	c.cancel()
	c.resp.Body.Close()
	<-c.done
}

// next returns the next event, skipping comments.
func (c *client) next(t *testing.T) ssetest.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("stream ended: %v", c.ended())
			}
			if ev.Comment != "" {
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 20s")
		}
	}
}

// end waits for the stream to end and returns how: nil for a clean end.
func (c *client) end(t *testing.T) error {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("stream still open after 30s")
	}
	return c.ended()
}

func (c *client) ended() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func write(t *testing.T, st *memory.Store, topic string) store.Document {
	t.Helper()
	doc, err := st.Update(context.Background(), store.Key{Topic: topic}, "", func(store.Document) ([]byte, error) { return []byte(`{}`), nil })
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func cursorOf(st *memory.Store, rev store.Revision) string {
	return store.Cursor{Epoch: st.Info().Epoch, Revision: rev}.String()
}

// waitFor polls cond for up to 30s; the bound only guards against hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// queued is how many live events wait in the queues of the hub's streams.
func (h *Hub) queued() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for c := range h.all {
		c.mu.Lock()
		n += len(c.queue)
		c.mu.Unlock()
	}
	return n
}
