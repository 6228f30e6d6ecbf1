package contract_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"sync/atomic"
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

// flakyStore is the memory store with a switch that makes the calls a
// request makes fail, so that the suite can see the 500 and 503 answers:
// down fails with an unexplained error (a bug: 500), unavailable with
// store.ErrUnavailable (a full disk, a database down: 503).
type flakyStore struct {
	*memory.Store
	down, unavailable atomic.Bool
}

var errStoreDown = errors.New("store down (test)")

func (s *flakyStore) failure() error {
	switch {
	case s.unavailable.Load():
		return fmt.Errorf("%w: disk full (test)", store.ErrUnavailable)
	case s.down.Load():
		return errStoreDown
	}
	return nil
}

func (s *flakyStore) Get(ctx context.Context, key store.Key) (store.Document, error) {
	if err := s.failure(); err != nil {
		return store.Document{}, err
	}
	return s.Store.Get(ctx, key)
}

func (s *flakyStore) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	if err := s.failure(); err != nil {
		return store.Document{}, err
	}
	return s.Store.Update(ctx, key, sourceID, fn)
}

func (s *flakyStore) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	if err := s.failure(); err != nil {
		return nil, 0, err
	}
	return s.Store.Heads(ctx, keys)
}

func (s *flakyStore) Ping(ctx context.Context) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.Ping(ctx)
}

// authCookie names the cookie that makes testAuth refuse a request.
const authCookie = "test_auth"

// testAuth is the development authenticator, except that it refuses a
// request whose test_auth cookie says "none" (401) or "deny" (403): the
// development authenticator itself never refuses anyone.
type testAuth struct{ auth.Cookie }

func (a testAuth) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	id, err := a.Identify(w, r)
	return id.Principal, err
}

func (a testAuth) StartSession(w http.ResponseWriter, r *http.Request) (auth.Identity, error) {
	return a.Identify(w, r)
}

func (a testAuth) Identify(w http.ResponseWriter, r *http.Request) (auth.Identity, error) {
	if ck, err := r.Cookie(authCookie); err == nil {
		switch ck.Value {
		case "none":
			return auth.Identity{}, auth.ErrUnauthenticated
		case "deny":
			return auth.Identity{}, auth.ErrForbidden
		}
	}
	return a.Cookie.Identify(w, r)
}

// bodyLimit is small, so that a 413 needs no megabyte.
const bodyLimit = 64 << 10

// running is one server on a random port, with the suite's contract.
type running struct {
	t      *testing.T
	base   string
	store  *flakyStore
	topics *topic.Set // the demo topics it serves
	k      *contract
}

// discard is a freshness recorder that keeps nothing.
type discard struct{}

func (discard) ClientFreshness(string, time.Duration) {}

func startServer(t *testing.T, k *contract) *running {
	t.Helper()
	return startServerWith(t, k, func(cfg *server.Config) {
		// One report per principal, of at most 2 samples, so that 429 and
		// the sample cap are cheap to reach.
		cfg.Freshness = server.Freshness{Recorder: discard{}, MaxSamples: 2, RatePerPrincipal: 0.01}
	})
}

func startServerWith(t *testing.T, k *contract, configure func(*server.Config)) *running {
	t.Helper()
	st := &flakyStore{Store: memory.Open()}
	t.Cleanup(func() { _ = st.Close() })
	cfg := server.Config{
		Addr:                   "127.0.0.1:0",
		BodyLimit:              bodyLimit,
		MaxStreamsPerPrincipal: 1,
	}
	if configure != nil {
		configure(&cfg)
	}
	topics, err := topic.NewSet(demo.Topics())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, st, topics, testAuth{auth.Cookie{Key: auth.NewKey()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &running{t: t, base: servertest.Run(t, srv), store: st, topics: topics, k: k}
}

// failing runs fn with the store down.
func (s *running) failing(fn func()) {
	s.store.down.Store(true)
	defer s.store.down.Store(false)
	fn()
}

// unavailable runs fn with the store unable to commit.
func (s *running) unavailable(fn func()) {
	s.store.unavailable.Store(true)
	defer s.store.unavailable.Store(false)
	fn()
}

// browser is a client with its own cookie jar: one principal.
type browser struct {
	s *running
	c *http.Client
}

func (s *running) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// do sends one request, checks it and its answer against the document,
// and checks the status the scenario expects.
func (b *browser) do(t *testing.T, c call) reply {
	t.Helper()
	in := b.s.k.checkRequest(t, c, b.s.base)
	req := c.request(context.Background(), b.s.base)
	if in != nil {
		req = in.Request
	}
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: body}
	if in == nil {
		b.s.k.checkUnmatched(t, c, r)
	} else {
		b.s.k.checkResponse(t, c, in, r, false)
	}
	if c.want != 0 && r.status != c.want {
		t.Errorf("%s: status %d, want %d: %s", c, r.status, c.want, body)
	}
	return r
}

// as returns a browser whose requests the test authenticator refuses.
func (s *running) as(value string) *browser {
	b := s.browser()
	u, _ := http.NewRequest(http.MethodGet, s.base, nil)
	b.c.Jar.SetCookies(u.URL, []*http.Cookie{{Name: authCookie, Value: value}})
	return b
}

// event is one dispatched Server-Sent Event.
type event struct {
	id, name, data, retry string
}

// stream is an open event stream.
type stream struct {
	events chan event
	cancel context.CancelFunc
	done   chan struct{}
}

// open starts an event stream and checks its answer against the
// document; a refused stream is returned as a reply instead.
func (b *browser) open(t *testing.T, c call) (*stream, reply) {
	t.Helper()
	in := b.s.k.checkRequest(t, c, b.s.base)
	if in == nil {
		t.Fatalf("%s: no operation", c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req := in.Request.WithContext(ctx)
	resp, err := (&http.Client{Jar: b.c.Jar}).Do(req) // no timeout: streams are long
	if err != nil {
		cancel()
		t.Fatalf("%s: %v", c, err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		r.body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		b.s.k.checkResponse(t, c, in, r, false)
		if c.want != 0 && r.status != c.want {
			t.Errorf("%s: status %d, want %d: %s", c, r.status, c.want, r.body)
		}
		return nil, r
	}
	b.s.k.checkResponse(t, c, in, r, true)
	s := &stream{events: make(chan event, 64), cancel: cancel, done: make(chan struct{})}
	go s.read(resp.Body)
	t.Cleanup(s.close)
	return s, r
}

// read parses frames as a browser does; comments are skipped.
func (s *stream) read(body io.ReadCloser) {
	defer close(s.done)
	defer close(s.events)
	defer body.Close()
	_ = ssetest.Read(body, func(e ssetest.Event) {
		if e.Comment == "" {
			s.events <- event{id: e.ID, name: e.Name, data: e.Data, retry: e.Retry}
		}
	})
}

func (s *stream) close() {
	s.cancel()
	<-s.done
}

// next returns the next event.
func (s *stream) next(t *testing.T) event {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return event{}
}
