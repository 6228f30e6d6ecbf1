package contract_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pinionkit/pinion/openapi"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/topic"
)

// TestContract runs a suite that calls every operation of openapi.yaml
// and provokes every status it documents, against a real server, and
// holds every request and answer against the document with kin-openapi's
// validator. An undocumented status, header or body shape fails, and so
// does a documented status that no scenario produced (unless it is listed
// in unreachable, with the reason).
func TestContract(t *testing.T) {
	k := newContract(t)
	s := startServer(t, k)

	t.Run("server", s.serverRoutes)
	t.Run("list", s.listRoute)
	for _, tp := range s.topics.All() {
		t.Run(tp.Name(), func(t *testing.T) { s.topicRoutes(t, tp) })
	}
	t.Run("refused commands", s.refusedCommands)
	t.Run("events", s.eventRoutes)
	t.Run("session", func(t *testing.T) {
		b := s.browser()
		b.do(t, call{method: "POST", path: "/api/session", want: 204})
		b.do(t, call{method: "POST", path: "/api/session", headers: []string{"Cookie", authCookie + "=none"}, want: 401})
		b.do(t, call{method: "DELETE", path: "/api/session", want: 204})
		// A page of another site may neither start nor end a session.
		b.do(t, call{method: "POST", path: "/api/session", headers: []string{"Origin", "https://evil.example"}, want: 403})
		b.do(t, call{method: "DELETE", path: "/api/session", headers: []string{"Sec-Fetch-Site", "cross-site"}, want: 403})
	})
	t.Run("rate limits", s.rateLimits)
	t.Run("freshness", s.freshnessRoute)
	t.Run("no operation", s.unmatched)

	if !t.Failed() {
		k.checkCoverage(t, map[string]map[int]string{
			"streamEvents": {http.StatusServiceUnavailable: "answered only while the server shuts down, between the hub closing and the listener closing"},
		})
	}
}

const (
	mediaJSON  = "application/json"
	mediaPatch = "application/merge-patch+json"
)

// examples are valid bodies for the demo topics' patches and actions.
var examples = map[string]string{
	"PATCH /api/topics/app-settings":                     `{"theme":"dark","compactMode":null}`,
	"PATCH /api/topics/cart":                             `{"coupon":"SAVE10"}`,
	"PATCH /api/topics/user-preferences":                 `{"displayName":"Ada","favorites":["/cart"]}`,
	"POST /api/topics/app-settings/actions/toggle-theme": `{}`,
	"POST /api/topics/cart/actions/add-item":             `{"sku":"A-1","name":"Pen","priceCents":150,"qty":2}`,
	"POST /api/topics/cart/actions/clear":                `{}`,
	"POST /api/topics/cart/actions/remove-item":          `{"sku":"A-1"}`,
	"POST /api/topics/cart/actions/set-quantity":         `{"sku":"A-1","qty":3}`,
}

// before are documents put in place before an action runs, keyed by
// topic: the cart actions need a line to work on.
var before = map[string]string{
	"cart": `{"items":[{"sku":"A-1","name":"Pen","qty":1,"priceCents":150}],"coupon":""}`,
}

func (s *running) serverRoutes(t *testing.T) {
	b := s.browser()
	b.do(t, call{method: "GET", path: "/healthz", want: 200})
	b.do(t, call{method: "GET", path: "/readyz", want: 200})
	s.failing(func() { b.do(t, call{method: "GET", path: "/readyz", want: 503}) })

	doc := b.do(t, call{method: "GET", path: openapi.Path, want: 200})
	if doc.status == http.StatusNotFound {
		t.Fatalf("the server does not serve its document: route GET %s to handlers.OpenAPI in server/routes.go", openapi.Path)
	}
	committed, err := os.ReadFile(committedPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(doc.body) != string(committed) {
		t.Errorf("GET %s does not serve openapi.yaml: the server must generate it with the Options `make openapi` uses", openapi.Path)
	}
}

func (s *running) listRoute(t *testing.T) {
	r := s.browser().do(t, call{method: "GET", path: "/api/topics", want: 200})
	if r.header.Get("Set-Cookie") == "" {
		t.Error("a first request got no session cookie")
	}
	s.as("none").do(t, call{method: "GET", path: "/api/topics", want: 401})
	s.as("deny").do(t, call{method: "GET", path: "/api/topics", want: 403})
	s.failing(func() { s.browser().do(t, call{method: "GET", path: "/api/topics", want: 500}) })
	s.unavailable(func() { s.browser().do(t, call{method: "GET", path: "/api/topics", want: 503}) })
}

// topicRoutes calls every operation of one topic with every status it
// documents.
func (s *running) topicRoutes(t *testing.T, tp *topic.Topic) {
	path := "/api/topics/" + tp.Name()
	b := s.browser()

	etag := b.do(t, call{method: "GET", path: path, want: 200}).etag()
	b.do(t, call{method: "GET", path: path, headers: []string{"If-None-Match", etag}, want: 304})
	s.refusals(t, call{method: "GET", path: path}, b)

	put := call{method: "PUT", path: path, headers: []string{"Content-Type", mediaJSON}, body: string(tp.Default())}
	etag = b.do(t, with(put, 200, "If-Match", etag, "X-Source-Id", "w-contract")).etag()
	s.writeErrors(t, b, put)
	b.do(t, call{method: "PUT", path: path, headers: []string{"Content-Type", mediaJSON},
		body: `{"unknown-member":1}`, invalid: true, want: 422})

	patch := call{method: "PATCH", path: path, headers: []string{"Content-Type", mediaPatch}, body: example(t, "PATCH "+path, `{}`)}
	b.do(t, with(patch, 200))
	s.writeErrors(t, b, patch)
	b.do(t, call{method: "PATCH", path: path, headers: []string{"Content-Type", mediaPatch}, body: `[1]`, invalid: true, want: 422})

	reset := call{method: "DELETE", path: path}
	b.do(t, with(reset, 200, "If-Match", "*"))
	b.do(t, with(reset, 400, "If-Match", "nope").breaks())
	b.do(t, with(reset, 400, "X-Source-Id", strings.Repeat("x", 129)).breaks())
	s.preconditionFails(t, b, reset)
	s.refusals(t, reset, b)

	for _, a := range tp.Actions() {
		actionPath := path + "/actions/" + a.Name
		run := call{method: "POST", path: actionPath, headers: []string{"Content-Type", mediaJSON},
			body: example(t, "POST "+actionPath, "")}
		if doc, ok := before[tp.Name()]; ok {
			etag = b.do(t, call{method: "PUT", path: path, headers: []string{"Content-Type", mediaJSON}, body: doc, want: 200}).etag()
		} else {
			etag = b.do(t, call{method: "GET", path: path, want: 200}).etag()
		}
		b.do(t, with(run, 200, "If-Match", etag))
		s.writeErrors(t, b, run)
		b.do(t, call{method: "POST", path: actionPath, headers: []string{"Content-Type", mediaJSON},
			body: `{"unknown-member":1}`, invalid: true, want: 422})
	}
}

// writeErrors provokes every error a write with a body can answer, from
// c, a valid write.
func (s *running) writeErrors(t *testing.T, b *browser, c call) {
	t.Helper()
	b.do(t, call{method: c.method, path: c.path, headers: c.headers, body: `{"a":`, invalid: true, want: 400})
	b.do(t, with(c, 400, "If-Match", "nope").breaks())
	b.do(t, with(c, 400, "X-Source-Id", strings.Repeat("x", 129)).breaks())
	s.preconditionFails(t, b, c)
	// Whitespace keeps the body valid JSON, so only its size is wrong.
	big := c
	big.body += strings.Repeat(" ", bodyLimit)
	b.do(t, with(big, 413))
	b.do(t, call{method: c.method, path: c.path, headers: []string{"Content-Type", "text/plain"}, body: c.body, invalid: true, want: 415})
	s.refusals(t, c, b)
}

// rateLimits provokes the 429 of every write, on a server that allows
// each principal one write: every write a second time answers 429.
func (s *running) rateLimits(t *testing.T) {
	limited := startServerWith(t, s.k, func(cfg *server.Config) {
		cfg.Security.RatePerPrincipal = 0.01
	})
	for _, tp := range limited.topics.All() {
		path := "/api/topics/" + tp.Name()
		writes := []call{
			{method: "PUT", path: path, headers: []string{"Content-Type", mediaJSON}, body: string(tp.Default())},
			{method: "PATCH", path: path, headers: []string{"Content-Type", mediaPatch}, body: example(t, "PATCH "+path, `{}`)},
			{method: "DELETE", path: path},
		}
		for _, a := range tp.Actions() {
			actionPath := path + "/actions/" + a.Name
			writes = append(writes, call{method: "POST", path: actionPath, headers: []string{"Content-Type", mediaJSON},
				body: example(t, "POST "+actionPath, "")})
		}
		for _, c := range writes {
			b := limited.browser()
			b.do(t, c) // any answer: it spends the principal's one write
			if r := b.do(t, with(c, http.StatusTooManyRequests)); r.header.Get("Retry-After") == "" {
				t.Errorf("%s: a 429 without Retry-After", c)
			}
		}
	}
}

// preconditionFails checks a 412: the current revision is both in ETag
// and in currentRevision.
func (s *running) preconditionFails(t *testing.T, b *browser, c call) {
	t.Helper()
	r := b.do(t, with(c, 412, "If-Match", `"1"`))
	if p := r.json(t); r.status == 412 && `"`+p["currentRevision"].(string)+`"` != r.etag() {
		t.Errorf("%s: currentRevision %v, ETag %s", c, p["currentRevision"], r.etag())
	}
}

// refusals provokes 401 and 403 through the test authenticator, and 500
// and 503 through the store.
func (s *running) refusals(t *testing.T, c call, b *browser) {
	t.Helper()
	s.as("none").do(t, with(c, 401))
	s.as("deny").do(t, with(c, 403))
	s.failing(func() { b.do(t, with(c, 500)) })
	s.unavailable(func() { b.do(t, with(c, 503)) })
}

// refusedCommands are 422s of the demo topics: most of them the document
// predicts, one only the server can know.
func (s *running) refusedCommands(t *testing.T) {
	b := s.browser()
	for _, c := range []call{
		{method: "PUT", path: "/api/topics/app-settings", body: `{"theme":"neon","language":"en","fontSize":14}`, invalid: true},
		{method: "PUT", path: "/api/topics/user-preferences", body: `{"accentColor":"red","sidebar":"expanded"}`, invalid: true},
		{method: "PATCH", path: "/api/topics/app-settings", body: `{"fontSize":99}`, invalid: true},
		{method: "POST", path: "/api/topics/cart/actions/add-item", body: `{"sku":"A-1","name":"Pen","qty":0}`, invalid: true},
		{method: "POST", path: "/api/topics/cart/actions/set-quantity", body: `{"sku":"A-1"}`, invalid: true},
		// The action's own rule: no such line in the cart.
		{method: "POST", path: "/api/topics/cart/actions/remove-item", body: `{"sku":"none"}`},
	} {
		media := mediaJSON
		if c.method == "PATCH" {
			media = mediaPatch
		}
		c.headers, c.want = []string{"Content-Type", media}, 422
		r := b.do(t, c)
		if errs, _ := r.json(t)["errors"].([]any); len(errs) == 0 {
			t.Errorf("%s: a 422 without errors: %s", c, r.body)
		}
	}
}

// freshnessRoute provokes every status of POST /api/freshness; the
// server allows one report per principal, so each call but the 429 one
// is a new browser.
func (s *running) freshnessRoute(t *testing.T) {
	w := s.browser().do(t, call{method: "PUT", path: "/api/topics/app-settings",
		headers: []string{"Content-Type", mediaJSON}, body: `{"theme":"light","language":"en","fontSize":16}`, want: 200})
	rev, _ := w.json(t)["revision"].(string)
	sample := `{"topic":"app-settings","revision":"` + rev + `","appliedAgoMs":12.5}`
	report := func(samples ...string) string { return `{"samples":[` + strings.Join(samples, ",") + `]}` }
	c := func(body string, want int, invalid bool, headers ...string) call {
		return call{method: "POST", path: "/api/freshness", headers: append([]string{"Content-Type", mediaJSON}, headers...),
			body: body, want: want, invalid: invalid}
	}
	b := s.browser()
	b.do(t, c(report(sample), 204, false))
	b.do(t, c(report(sample), 429, false))
	s.browser().do(t, c(`{"samples":`, 400, true))
	s.as("none").do(t, c(report(sample), 401, false))
	s.as("deny").do(t, c(report(sample), 403, false))
	s.browser().do(t, c(report(sample)+strings.Repeat(" ", 64+2*256), 413, false))
	s.browser().do(t, call{method: "POST", path: "/api/freshness", headers: []string{"Content-Type", "text/plain"},
		body: report(sample), want: 415, invalid: true})
	s.browser().do(t, c(report(sample, sample, sample), 422, false)) // the cap is the server's setting, not in the document
	s.browser().do(t, c(report(`{"topic":"cart","revision":"1","appliedAgoMs":1}`), 422, false))

	off := startServerWith(t, s.k, nil)
	off.browser().do(t, c(report(sample), 404, false))
}

func (s *running) eventRoutes(t *testing.T) {
	a := s.browser()
	live, _ := a.open(t, call{method: "GET", path: "/api/events?topic=app-settings&topic=cart", want: 200})
	ready := live.next(t)
	s.k.checkEvent(t, ready, "ready")
	if ready.retry == "" {
		t.Error("the first event has no retry")
	}
	// One stream per principal (MaxStreamsPerPrincipal: 1).
	a.open(t, call{method: "GET", path: "/api/events", want: 429})

	s.browser().do(t, call{method: "PUT", path: "/api/topics/app-settings",
		headers: []string{"Content-Type", mediaJSON, "X-Source-Id", "w-events"},
		body:    `{"theme":"light","language":"en","fontSize":16}`, want: 200})
	inv := live.next(t)
	s.k.checkEvent(t, inv, "invalidation")
	if !strings.Contains(inv.data, `"sourceId":"w-events"`) {
		t.Errorf("invalidation %s does not carry the writer's sourceId", inv.data)
	}
	live.close()

	// Resuming replays what changed since the cursor, then sends ready.
	for _, c := range []call{
		{method: "GET", path: "/api/events?topic=app-settings", headers: []string{"Last-Event-ID", ready.id}, want: 200},
		{method: "GET", path: "/api/events?lastEventId=" + ready.id, want: 200},
	} {
		st := a.openEventually(t, c)
		s.k.checkEvent(t, st.next(t), "invalidation")
		for ev := st.next(t); ev.name != "ready"; ev = st.next(t) {
			s.k.checkEvent(t, ev, "invalidation")
		}
		st.close()
	}

	s.as("none").open(t, call{method: "GET", path: "/api/events", want: 401})
	s.as("deny").open(t, call{method: "GET", path: "/api/events", want: 403})
	a.open(t, call{method: "GET", path: "/api/events?topic=nope", invalid: true, want: 404})
}

// openEventually opens a stream once the principal's previous one is
// gone: the server lets go of a closed stream a moment after the client.
func (b *browser) openEventually(t *testing.T, c call) *stream {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		want := c.want
		c.want = 0
		st, r := b.open(t, c)
		c.want = want
		if st != nil {
			return st
		}
		if r.status != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("%s: status %d: %s", c, r.status, r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// unmatched sends requests the document has no operation for.
func (s *running) unmatched(t *testing.T) {
	b := s.browser()
	for _, c := range []call{
		{method: "GET", path: "/api/topics/nope", want: 404},
		{method: "PUT", path: "/api/topics/nope", headers: []string{"Content-Type", mediaJSON}, body: `{}`, want: 404},
		{method: "DELETE", path: "/api/topics/Not%20A%20Name", want: 404},
		{method: "POST", path: "/api/topics/cart/actions/nope", headers: []string{"Content-Type", mediaJSON}, body: `{}`, want: 404},
		{method: "POST", path: "/api/topics/app-settings", want: 405},
		{method: "DELETE", path: "/api/events", want: 405},
		{method: "GET", path: "/api/nope", want: 404},
		{method: "GET", path: "/nope", want: 404},
		{method: "POST", path: "/healthz", want: 405},
		{method: "PUT", path: openapi.Path, want: 405},
	} {
		b.do(t, c)
	}
}

// with returns a copy of c with more headers and the status to expect.
func with(c call, want int, headers ...string) call {
	c.headers = append(append([]string(nil), c.headers...), headers...)
	c.want = want
	return c
}

// breaks marks the request as one the document refuses.
func (c call) breaks() call {
	c.invalid = true
	return c
}

func example(t *testing.T, key, fallback string) string {
	t.Helper()
	if body, ok := examples[key]; ok {
		return body
	}
	if fallback == "" {
		t.Fatalf("no example body for %s: add one to examples", key)
	}
	return fallback
}
