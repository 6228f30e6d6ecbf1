package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/server/servertest"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/topic"
)

// Probe is a test topic whose action fails as a bug would.
type Probe struct {
	N int `json:"n"`
}

// hostileCase is one hostile request and the answer the protocol
// promises for it.
type hostileCase struct {
	name               string
	method, path, body string
	contentType        string
	headers            []string // name, value, ...
	host               string   // the Host header, when not the server's
	as                 string   // who sends it: see hostileSuite.credentials; "" = a fresh admin
	raw                string   // sent byte for byte on a connection of its own instead
	untilStatus        bool     // repeat (at most 50 times) until the status comes
	broken             bool     // the store cannot commit while it runs
	status             int
	slug               string            // problem type slug; "" when the answer is not a problem
	pointers           []string          // a 422's error pointers, in order
	answerHeaders      map[string]string // headers the answer carries ("" = any value)
	detailHas          string            // a phrase of the problem's detail
	noBody             bool              // a HEAD: a problem's headers, no body
	bodyLacks          string            // what the answer must not reveal
}

// TestHostileInput is docs/protocol.md's error table, row by row, and
// every hostile input issue 9 lists, through a real listener: for each
// request the status, the problem+json body (type, status, the pointers
// of a 422) and the headers the protocol promises; that neither the shared
// document nor the tenant's document changed; and, on an event stream
// held open across the whole table by a reader of every topic, that no
// invalidation was raised. A valid write at the end proves the stream was
// listening all along.
func TestHostileInput(t *testing.T) {
	s := newHostileSuite(t)
	long := strings.Repeat("a", 129)
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	var wide strings.Builder
	wide.WriteString(`{"theme":"dark"`)
	for i := range 10001 {
		fmt.Fprintf(&wide, `,"k%d":1`, i)
	}
	wide.WriteString(`}`)
	huge := `{"theme":"` + strings.Repeat("x", 1<<20) + `"}`

	const (
		settings = "/api/topics/app-settings"
		notes    = "/api/topics/team-notes"
		jsonCT   = "application/json"
		patchCT  = "application/merge-patch+json"
	)
	cases := []hostileCase{
		// 400: the body is not one well-formed JSON value.
		{name: "malformed JSON", method: "PUT", path: settings, body: `{"theme": }`, contentType: jsonCT, status: 400, slug: "bad-request", detailHas: "line 1, column 11"},
		{name: "empty body", method: "PUT", path: settings, contentType: jsonCT, status: 400, slug: "bad-request"},
		{name: "trailing data", method: "PATCH", path: settings, body: `{} {}`, contentType: patchCT, status: 400, slug: "bad-request"},
		{name: "duplicate member", method: "PATCH", path: settings, body: `{"theme":"dark","theme":"light"}`, contentType: patchCT, status: 400, slug: "bad-request", detailHas: "duplicate"},
		{name: "invalid UTF-8", method: "PUT", path: settings, body: "{\"theme\":\"\xff\"}", contentType: jsonCT, status: 400, slug: "bad-request"},
		{name: "malformed action input", method: "POST", path: settings + "/actions/toggle-theme", body: `[`, contentType: jsonCT, status: 400, slug: "bad-request"},
		// 400: a bad header value.
		{name: "malformed If-Match", method: "PUT", path: settings, body: settingsBody, contentType: jsonCT, headers: []string{"If-Match", "abc"}, status: 400, slug: "bad-request", detailHas: "If-Match"},
		{name: "empty If-Match list", method: "PATCH", path: settings, body: `{}`, contentType: patchCT, headers: []string{"If-Match", ","}, status: 400, slug: "bad-request"},
		{name: "X-Source-Id too long", method: "PUT", path: settings, body: settingsBody, contentType: jsonCT, headers: []string{"X-Source-Id", long}, status: 400, slug: "bad-request", detailHas: "X-Source-Id"},
		{name: "X-Source-Id not ASCII", method: "DELETE", path: settings, headers: []string{"X-Source-Id", "tab\u00e9"}, status: 400, slug: "bad-request"},
		{name: "X-Source-Id twice", method: "PATCH", path: settings, body: `{}`, contentType: patchCT, headers: []string{"X-Source-Id", "a", "X-Source-Id", "b"}, status: 400, slug: "bad-request"},
		// 400, 431, 501, 505: what net/http refuses before any handler.
		{name: "CR in a header value", raw: "GET /api/topics/app-settings HTTP/1.1\r\nHost: localhost\r\nX-Source-Id: a\rb\r\n\r\n", status: 400, slug: "bad-request"},
		{name: "NUL in a header value", raw: "PUT /api/topics/app-settings HTTP/1.1\r\nHost: localhost\r\nX-Source-Id: a\x00b\r\nContent-Length: 2\r\n\r\n{}", status: 400, slug: "bad-request"},
		{name: "LF in a header value", raw: "GET /api/topics/app-settings HTTP/1.1\r\nHost: localhost\r\nX-Source-Id: a\nb c\r\n\r\n", status: 400, slug: "bad-request"},
		// A bare LF ends a header line (RFC 9112 2.2 lets a server read it
		// so): what follows is one more header, and the request is
		// answered as any other, here for want of credentials.
		{name: "LF that starts another header", raw: "GET /api/topics/app-settings HTTP/1.1\r\nHost: localhost\r\nX-Source-Id: a\nX-Other: b\r\n\r\n", status: 401, slug: "unauthorized"},
		{name: "a header line without a colon", raw: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nnot a header\r\n\r\n", status: 400, slug: "bad-request"},
		{name: "a space in a header name", raw: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n", status: 400, slug: "bad-request"},
		{name: "no Host", raw: "GET /healthz HTTP/1.1\r\n\r\n", status: 400, slug: "bad-request", detailHas: "Host"},
		{name: "two Hosts", raw: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n", status: 400, slug: "bad-request"},
		{name: "oversized headers", raw: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + strings.Repeat("b", 40<<10) + "\r\n\r\n", status: 431, slug: "http-431", detailHas: "16384"},
		{name: "unknown transfer coding", raw: "PUT /api/topics/app-settings HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: rot13\r\n\r\n", status: 501, slug: "http-501"},
		{name: "unknown Expect", raw: "PUT /api/topics/app-settings HTTP/1.1\r\nHost: localhost\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}", status: 417, slug: "http-417"},
		{name: "HTTP version", raw: "GET /healthz HTTP/3.0\r\nHost: localhost\r\n\r\n", status: 505, slug: "http-505"},
		// 401: no or bad credentials, on reads, writes and the stream.
		{name: "no credentials, read", method: "GET", path: settings, as: "none", status: 401, slug: "unauthorized"},
		{name: "no credentials, write", method: "PUT", path: settings, body: settingsBody, contentType: jsonCT, as: "none", status: 401, slug: "unauthorized"},
		{name: "no credentials, stream", method: "GET", path: "/api/events", as: "none", status: 401, slug: "unauthorized"},
		{name: "bad token", method: "PATCH", path: settings, body: `{"theme":"dark"}`, contentType: patchCT, as: "forged", status: 401, slug: "unauthorized"},
		{name: "expired token", method: "DELETE", path: settings, as: "expired", status: 401, slug: "unauthorized"},
		// 403: the policy, the tenant, and cross-site writes.
		{name: "forbidden write", method: "PUT", path: settings, body: settingsBody, contentType: jsonCT, as: "user", status: 403, slug: "forbidden"},
		{name: "forbidden action", method: "POST", path: settings + "/actions/toggle-theme", body: `{}`, contentType: jsonCT, as: "user", status: 403, slug: "forbidden"},
		{name: "forbidden reset", method: "DELETE", path: settings, as: "user", status: 403, slug: "forbidden"},
		{name: "per-tenant topic without a tenant", method: "PATCH", path: notes, body: `{"text":"x"}`, contentType: patchCT, as: "no-tenant", status: 403, slug: "forbidden"},
		{name: "per-tenant stream without a tenant", method: "GET", path: "/api/events?topic=team-notes", as: "no-tenant", status: 403, slug: "forbidden"},
		{name: "cross-site write (Origin)", method: "PUT", path: notes, body: `{"text":"csrf"}`, contentType: jsonCT, as: "session", headers: []string{"Origin", "https://evil.example"}, status: 403, slug: "forbidden", detailHas: "Cross-site"},
		{name: "cross-site write (Sec-Fetch-Site)", method: "POST", path: settings + "/actions/toggle-theme", body: `{}`, contentType: jsonCT, as: "session", headers: []string{"Sec-Fetch-Site", "cross-site"}, status: 403, slug: "forbidden"},
		{name: "cross-site session start", method: "POST", path: "/api/session", headers: []string{"Origin", "https://evil.example"}, status: 403, slug: "forbidden"},
		{name: "cross-site session end", method: "DELETE", path: "/api/session", as: "session", headers: []string{"Sec-Fetch-Site", "cross-site"}, status: 403, slug: "forbidden"},
		// 404: unknown topics, actions, routes.
		{name: "unknown topic", method: "PUT", path: "/api/topics/nope", body: `{}`, contentType: jsonCT, status: 404, slug: "not-found"},
		{name: "topic name with capitals", method: "GET", path: "/api/topics/App-Settings", status: 404, slug: "not-found"},
		{name: "topic name with an encoded slash", method: "PATCH", path: "/api/topics/app-settings%2F..", body: `{}`, contentType: patchCT, status: 404, slug: "not-found"},
		{name: "topic name too long", method: "GET", path: "/api/topics/" + strings.Repeat("a", 200), status: 404, slug: "not-found"},
		{name: "unknown action", method: "POST", path: settings + "/actions/nope", body: `{}`, contentType: jsonCT, status: 404, slug: "not-found"},
		{name: "action name out of pattern", method: "POST", path: settings + "/actions/Toggle%20Theme", body: `{}`, contentType: jsonCT, status: 404, slug: "not-found"},
		{name: "unknown API route", method: "GET", path: "/api/nope", status: 404, slug: "not-found"},
		{name: "stream of an unknown topic", method: "GET", path: "/api/events?topic=nope", status: 404, slug: "not-found"},
		// 405, and HEAD.
		{name: "POST on a topic", method: "POST", path: settings, body: `{}`, contentType: jsonCT, status: 405, slug: "method-not-allowed", answerHeaders: map[string]string{"Allow": ""}},
		{name: "DELETE on the stream", method: "DELETE", path: "/api/events", status: 405, slug: "method-not-allowed", answerHeaders: map[string]string{"Allow": "GET"}},
		{name: "PUT on healthz", method: "PUT", path: "/healthz", body: `{}`, contentType: jsonCT, status: 405, slug: "method-not-allowed", answerHeaders: map[string]string{"Allow": ""}},
		{name: "PATCH on an action", method: "PATCH", path: settings + "/actions/toggle-theme", body: `{}`, contentType: patchCT, status: 405, slug: "method-not-allowed", answerHeaders: map[string]string{"Allow": "POST"}},
		{name: "HEAD on the stream", method: "HEAD", path: "/api/events", status: 405, slug: "method-not-allowed", noBody: true, answerHeaders: map[string]string{"Allow": "GET"}},
		{name: "HEAD of an unknown topic", method: "HEAD", path: "/api/topics/nope", status: 404, slug: "not-found", noBody: true},
		// 412.
		{name: "If-Match not current", method: "PUT", path: settings, body: settingsBody, contentType: jsonCT, headers: []string{"If-Match", `"1"`}, status: 412, slug: "precondition-failed", answerHeaders: map[string]string{"ETag": ""}},
		{name: "weak If-Match never matches", method: "DELETE", path: settings, headers: []string{"If-Match", `W/"` + "{rev}" + `"`}, status: 412, slug: "precondition-failed"},
		// 413: too large, too deep, too wide.
		{name: "body over the size limit", method: "PUT", path: settings, body: huge, contentType: jsonCT, status: 413, slug: "too-large"},
		{name: "nested too deep", method: "PATCH", path: settings, body: deep, contentType: patchCT, status: 413, slug: "too-large", detailHas: "nested more than 32"},
		{name: "too many members", method: "PUT", path: settings, body: wide.String(), contentType: jsonCT, status: 413, slug: "too-large", detailHas: "10000"},
		{name: "deep action input", method: "POST", path: settings + "/actions/toggle-theme", body: deep, contentType: jsonCT, status: 413, slug: "too-large"},
		// 415.
		{name: "no content type", method: "PUT", path: settings, body: settingsBody, status: 415, slug: "unsupported-media-type"},
		{name: "text/plain", method: "PUT", path: settings, body: settingsBody, contentType: "text/plain", status: 415, slug: "unsupported-media-type"},
		{name: "a merge patch as application/json", method: "PATCH", path: settings, body: `{}`, contentType: jsonCT, status: 415, slug: "unsupported-media-type"},
		{name: "a charset other than utf-8", method: "PUT", path: settings, body: settingsBody, contentType: "application/json; charset=latin1", status: 415, slug: "unsupported-media-type"},
		// 422: well-formed JSON whose content is wrong.
		{name: "unknown member", method: "PUT", path: settings, body: `{"theme":"dark","language":"en","fontSize":14,"colour":"red"}`, contentType: jsonCT, status: 422, slug: "validation", pointers: []string{"/colour"}},
		{name: "unknown member in a patch", method: "PATCH", path: settings, body: `{"colour":"red","fontSize":"big"}`, contentType: patchCT, status: 422, slug: "validation", pointers: []string{"/colour", "/fontSize"}},
		{name: "wrong type", method: "PUT", path: settings, body: `{"theme":1,"language":"en","fontSize":14}`, contentType: jsonCT, status: 422, slug: "validation", pointers: []string{"/theme"}},
		{name: "failed rule after the merge", method: "PATCH", path: settings, body: `{"fontSize":99,"language":null}`, contentType: patchCT, status: 422, slug: "validation", pointers: []string{"/fontSize", "/language"}},
		{name: "a string over its bound", method: "PATCH", path: settings, body: `{"language":"` + strings.Repeat("x", 900) + `"}`, contentType: patchCT, status: 422, slug: "validation", pointers: []string{"/language"}},
		{name: "a merge patch that is not an object", method: "PATCH", path: settings, body: `["op"]`, contentType: patchCT, status: 422, slug: "validation", pointers: []string{""}},
		{name: "a document that is not an object", method: "PUT", path: settings, body: `"dark"`, contentType: jsonCT, status: 422, slug: "validation", pointers: []string{""}},
		{name: "unknown member in an action input", method: "POST", path: settings + "/actions/toggle-theme", body: `{"to":"dark"}`, contentType: jsonCT, status: 422, slug: "validation", pointers: []string{"/to"}},
		{name: "tenant document with a wrong type", method: "PUT", path: notes, body: `{"text":5}`, contentType: jsonCT, status: 422, slug: "validation", pointers: []string{"/text"}},
		// 421: a Host this server does not answer for.
		{name: "bad Host", method: "PUT", path: settings, body: settingsBody, contentType: jsonCT, host: "evil.example", status: 421, slug: "http-421"},
		{name: "bad Host on the stream", method: "GET", path: "/api/events", host: "rebind.example:8080", status: 421, slug: "http-421"},
		// 429: too many writes.
		{name: "rate limit", method: "PATCH", path: settings, body: `{"colour":"red"}`, contentType: patchCT, as: "rate", untilStatus: true, status: 429, slug: "too-many-requests", answerHeaders: map[string]string{"Retry-After": ""}},
		// 500: a bug, never shown.
		{name: "an action that fails", method: "POST", path: "/api/topics/probe/actions/fail", body: `{}`, contentType: jsonCT, status: 500, slug: "internal"},
		// 503: the store cannot commit.
		{name: "store unavailable", method: "PUT", path: settings, body: settingsBody, contentType: jsonCT, broken: true, status: 503, slug: "unavailable", answerHeaders: map[string]string{"Retry-After": ""}},
		// Not errors, but hostile all the same.
		{name: "malformed If-None-Match is ignored", method: "GET", path: settings, headers: []string{"If-None-Match", "garbage"}, status: 200},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { s.run(t, i, tc) })
	}

	// Nothing reached the stream; a valid write does.
	s.events.none(t, 300*time.Millisecond)
	r := s.do(t, "watcher", "PATCH", settings, `{"theme":"light"}`, "Content-Type", patchCT)
	after := r.snapshot(t)
	if e := s.events.next(t); e.name != "invalidation" || !strings.Contains(e.data, after.Revision) {
		t.Fatalf("the stream did not see the valid write: %+v", e)
	}
}

// hostileSuite is one server in -auth jwt mode with the demo policies, a
// per-tenant topic and a topic whose action fails, a store that can be
// broken, a low per-principal rate limit and a small header limit.
type hostileSuite struct {
	h        *harness
	st       *failing
	events   *sseConn
	settings snap // app-settings and tenant t1's team-notes before the table
	notes    snap
	callers  int // principals made so far, each a new one
}

func newHostileSuite(t *testing.T) *hostileSuite {
	t.Helper()
	notes := topic.Define("team-notes", topic.Spec[Notes]{Description: "A tenant's notes.", Scope: topic.PerTenant})
	probe := topic.Define("probe", topic.Spec[Probe]{Actions: map[string]topic.Action[Probe]{
		"fail": topic.NewAction(func(context.Context, *Probe, struct{}) error {
			return errors.New("open /var/lib/pinion/secret: disk on fire")
		}),
	}})
	set, err := topic.NewSet(append(demo.Topics(), notes, probe))
	if err != nil {
		t.Fatal(err)
	}
	who, err := auth.NewJWT(context.Background(), auth.JWTConfig{Secret: jwtSecret, Issuer: "pinion-test", Audience: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	st := &failing{Store: memory.Open()}
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Security: server.Security{
		Policies:         demo.Policies(),
		RatePerPrincipal: 1, // bursts of 2: every case but the rate limit's writes once per principal
		MaxHeaderBytes:   16 << 10,
	}}, st, set, who, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &hostileSuite{st: st}
	s.h = &harness{t: t, base: servertest.Run(t, srv), srv: srv, st: st}
	// Documents that exist, so that a change would show.
	s.settings = s.do(t, "writer", "PUT", "/api/topics/app-settings", settingsBody, "Content-Type", "application/json").snapshot(t)
	s.notes = s.do(t, "writer", "PUT", "/api/topics/team-notes", `{"text":"ours"}`, "Content-Type", "application/json").snapshot(t)
	s.events = s.h.browser().stream("/api/events", s.credentials(t, "watcher")...)
	if e := s.events.next(t); e.name != "ready" {
		t.Fatalf("first event %+v, want ready", e)
	}
	return s
}

// credentials returns the headers of one kind of caller. Admins and users
// are of tenant t1; each call makes a new principal unless a name is
// given ("watcher", "writer").
func (s *hostileSuite) credentials(t *testing.T, as string) []string {
	t.Helper()
	s.callers++
	sub := fmt.Sprintf("caller-%d", s.callers)
	admin := jwt.MapClaims{"sub": sub, "tenant": "t1", "roles": []string{"admin"}}
	switch as {
	case "", "rate", "session":
		return bearerFor(t, admin)
	case "watcher", "writer":
		return bearerFor(t, jwt.MapClaims{"sub": as, "tenant": "t1", "roles": []string{"admin"}})
	case "user":
		return bearerFor(t, jwt.MapClaims{"sub": sub, "tenant": "t1"})
	case "no-tenant":
		return bearerFor(t, jwt.MapClaims{"sub": sub, "roles": []string{"admin"}})
	case "other-tenant":
		return bearerFor(t, jwt.MapClaims{"sub": sub, "tenant": "t2", "roles": []string{"admin"}})
	case "forged":
		return []string{"Authorization", "Bearer " + token(t, admin, []byte("another-key-another-key-another!!"), jwt.SigningMethodHS256)}
	case "expired":
		admin["exp"] = time.Now().Add(-time.Hour).Unix()
		return bearerFor(t, admin)
	case "none":
		return nil
	}
	t.Fatalf("unknown caller %q", as)
	return nil
}

func (s *hostileSuite) do(t *testing.T, as, method, path, body string, headers ...string) reply {
	t.Helper()
	return s.h.browser().do(method, path, body, append(s.credentials(t, as), headers...)...)
}

func (s *hostileSuite) run(t *testing.T, i int, tc hostileCase) {
	if tc.broken {
		s.st.broken.Store(true)
		defer s.st.broken.Store(false)
	}
	var r reply
	switch {
	case tc.raw != "":
		r = sendRaw(t, s.h.base, tc.raw)
	case tc.untilStatus:
		hdr := s.credentials(t, tc.as)
		for range 50 {
			if r = s.send(t, tc, hdr); r.status == tc.status {
				break
			}
			if r.status < 400 {
				t.Fatalf("status %d before the limit: %s", r.status, r.body)
			}
		}
	default:
		var hdr []string
		if tc.as == "session" {
			hdr = s.session(t)
		} else {
			hdr = s.credentials(t, tc.as)
		}
		r = s.send(t, tc, hdr)
	}

	if r.status != tc.status {
		t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
	}
	if tc.bodyLacks != "" && strings.Contains(r.body, tc.bodyLacks) {
		t.Errorf("the answer reveals %q: %s", tc.bodyLacks, r.body)
	}
	for name, want := range tc.answerHeaders {
		if got := r.header.Get(name); got == "" || (want != "" && !strings.Contains(got, want)) {
			t.Errorf("%s: %q, want %q", name, got, cmpOr(want, "a value"))
		}
	}
	if tc.slug != "" {
		if ct := r.header.Get("Content-Type"); ct != protocol.MediaProblem {
			t.Fatalf("Content-Type %q, want %s: %s", ct, protocol.MediaProblem, r.body)
		}
		if tc.noBody {
			if r.body != "" {
				t.Errorf("a HEAD answer has a body: %q", r.body)
			}
		} else {
			p := r.problem(t, tc.status)
			if want := protocol.ProblemBase + tc.slug; p.Type != want {
				t.Errorf("type %q, want %q", p.Type, want)
			}
			if tc.detailHas != "" && !strings.Contains(p.Detail, tc.detailHas) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detailHas)
			}
			var pointers []string
			for _, e := range p.Errors {
				pointers = append(pointers, e.Pointer)
			}
			if !slices.Equal(pointers, tc.pointers) {
				t.Errorf("error pointers %q, want %q", pointers, tc.pointers)
			}
			for _, leak := range []string{"/var/", "disk on fire", "goroutine", ".go:"} {
				if strings.Contains(r.body, leak) {
					t.Errorf("the problem reveals internals (%q): %s", leak, r.body)
				}
			}
		}
	}
	s.unchanged(t)
}

// send sends tc's request with the caller's headers hdr.
func (s *hostileSuite) send(t *testing.T, tc hostileCase, hdr []string) reply {
	t.Helper()
	headers := append([]string{}, hdr...)
	if tc.contentType != "" {
		headers = append(headers, "Content-Type", tc.contentType)
	}
	for i := 0; i+1 < len(tc.headers); i += 2 {
		headers = append(headers, tc.headers[i], strings.ReplaceAll(tc.headers[i+1], "{rev}", s.settings.Revision))
	}
	return s.h.raw(tc.method, tc.path, tc.host, tc.body, headers...)
}

// session starts a browser session from a fresh admin token and returns
// its cookie, the only credential of the request that follows.
func (s *hostileSuite) session(t *testing.T) []string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{h: s.h, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	if r := b.do("POST", "/api/session", "", s.credentials(t, "session")...); r.status != http.StatusNoContent {
		t.Fatalf("POST /api/session: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest("GET", s.h.base, nil)
	var cookies []string
	for _, c := range jar.Cookies(req.URL) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if len(cookies) == 0 {
		t.Fatal("no session cookie")
	}
	return []string{"Cookie", strings.Join(cookies, "; ")}
}

// unchanged asserts that the shared document and tenant t1's document are
// as they were before the table.
func (s *hostileSuite) unchanged(t *testing.T) {
	t.Helper()
	for path, before := range map[string]snap{"/api/topics/app-settings": s.settings, "/api/topics/team-notes": s.notes} {
		now := s.do(t, "writer", "GET", path, "").snapshot(t)
		if now.Revision != before.Revision || string(now.Data) != string(before.Data) {
			t.Fatalf("%s changed: %s %s → %s %s", path, before.Revision, before.Data, now.Revision, now.Data)
		}
	}
}

// sendRaw writes req on a connection of its own, as no Go client would
// send it, and reads the one answer.
func sendRaw(t *testing.T, base, req string) reply {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
