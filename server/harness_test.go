package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/internal/ssetest"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/server/servertest"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/topic"
)

// Counter is a test topic whose increment action is a read-modify-write.
type Counter struct {
	N int `json:"n" validate:"min=0"`
}

type increment struct {
	By int `json:"by" validate:"min=1,max=10"`
}

func testTopics(t testing.TB) *topic.Set {
	t.Helper()
	counter := topic.Define("counter", topic.Spec[Counter]{
		Description: "A shared counter.",
		Actions: map[string]topic.Action[Counter]{
			"increment": topic.NewAction(func(_ context.Context, c *Counter, in increment) error {
				c.N += in.By
				return nil
			}),
		},
	})
	set, err := topic.NewSet(append(demo.Topics(), counter))
	if err != nil {
		t.Fatalf("topics: %v", err)
	}
	return set
}

// harness is one running server on a random port.
type harness struct {
	t    *testing.T
	base string
	srv  *server.Server
	st   server.Store
}

type testStore interface {
	server.Store
	store.Backend
}

// start runs a server on 127.0.0.1:0 with the development cookie
// authenticator until the test ends.
func start(t *testing.T, st testStore, cfg server.Config) *harness {
	t.Helper()
	return startWith(t, st, auth.Cookie{Key: auth.NewKey()}, cfg)
}

// startWith is start with another authenticator. Open listens before Run
// serves, so the server takes requests as soon as this returns.
func startWith(t *testing.T, st testStore, who auth.Authenticator, cfg server.Config) *harness {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	srv, err := server.New(cfg, st, testTopics(t), who, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, base: servertest.Run(t, srv), srv: srv, st: st}
}

func startMemory(t *testing.T) *harness {
	t.Helper()
	return start(t, memory.Open(), server.Config{})
}

// waitFor polls cond for up to 10s; the bound only guards against hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// browser is an HTTP client with its own cookie jar: one principal.
type browser struct {
	h *harness
	c *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type reply struct {
	status int
	header http.Header
	body   string
}

// do sends one request; headers alternate name, value.
func (b *browser) do(method, path, body string, headers ...string) reply {
	b.h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.h.base+path, rd)
	if err != nil {
		b.h.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

// event is one dispatched SSE event, or a comment.
type event struct {
	id, name, data, retry string
	comment               string
}

// sseConn reads a raw event stream, parsing it as a browser would.
type sseConn struct {
	resp   *http.Response
	events chan event
	done   chan struct{}
	cancel context.CancelFunc
	mu     sync.Mutex
	err    error
}

func (b *browser) stream(path string, headers ...string) *sseConn {
	b.h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.h.base+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	client := &http.Client{Jar: b.c.Jar} // no timeout: streams are long
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		b.h.t.Fatalf("open stream: %v", err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		b.h.t.Fatalf("open stream: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	s := &sseConn{resp: resp, events: make(chan event, 100000), done: make(chan struct{}), cancel: cancel}
	go s.read()
	b.h.t.Cleanup(s.close)
	return s
}

func (s *sseConn) read() {
	defer close(s.done)
	defer close(s.events)
	err := ssetest.Read(s.resp.Body, func(e ssetest.Event) {
		s.events <- event{id: e.ID, name: e.Name, data: e.Data, retry: e.Retry, comment: e.Comment}
	})
	s.mu.Lock()
	s.err = err
	if s.err == nil {
		s.err = io.EOF
	}
	s.mu.Unlock()
}

func (s *sseConn) close() {
	s.cancel()
	s.resp.Body.Close()
	<-s.done
}

// next returns the next event, skipping comments.
func (s *sseConn) next(t *testing.T) event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended: %v", s.ended())
			}
			if ev.comment != "" {
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 10s")
		}
	}
}

// none asserts that no event arrives for a short while.
func (s *sseConn) none(t *testing.T, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			if ev.comment == "" {
				t.Fatalf("unexpected event %+v", ev)
			}
		case <-timer.C:
			return
		}
	}
}

func (s *sseConn) ended() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// waitClosed waits until the server ended the stream.
func (s *sseConn) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatal("stream still open")
	}
	if err := s.ended(); err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "closed") {
		t.Logf("stream ended with %v", err)
	}
}
