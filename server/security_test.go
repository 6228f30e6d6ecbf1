package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/memory"
)

var testAssets = fstest.MapFS{
	"index.html":           {Data: []byte("<!doctype html><title>app</title>")},
	"assets/index-abc.js":  {Data: []byte("console.log(1)")},
	"assets/index-abc.css": {Data: []byte("body{}")},
}

// raw sends one request without a cookie jar and with a chosen Host.
func (h *harness) raw(method, path, host, body string, headers ...string) reply {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func TestHostCheck(t *testing.T) {
	h := start(t, memory.Open(), server.Config{})
	for _, host := range []string{"evil.example", "attacker.test:80", "127.0.0.2"} {
		r := h.raw("GET", "/api/topics/app-settings", host, "")
		r.problem(t, http.StatusMisdirectedRequest)
	}
	for _, host := range []string{"localhost", "LOCALHOST:8080", "127.0.0.1", "[::1]:80"} {
		if r := h.raw("GET", "/healthz", host, ""); r.status != 200 {
			t.Errorf("Host %s: status %d, want 200", host, r.status)
		}
	}
	named := start(t, memory.Open(), server.Config{Security: server.Security{AllowedHosts: []string{"app.example.com"}}})
	if r := named.raw("GET", "/healthz", "app.example.com", ""); r.status != 200 {
		t.Errorf("an allowed host: %d", r.status)
	}
	named.raw("GET", "/healthz", "localhost", "").problem(t, http.StatusMisdirectedRequest)
}

func TestMethodsAndHead(t *testing.T) {
	h := start(t, memory.Open(), server.Config{Assets: testAssets})
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml", "/api/topics", "/api/topics/app-settings"} {
		get := h.raw("GET", path, "", "")
		head := h.raw("HEAD", path, "", "")
		if head.status != 200 || head.body != "" || head.header.Get("Content-Type") != get.header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q %q, want 200, no body, the GET's type %q", path, head.status, head.header.Get("Content-Type"), head.body, get.header.Get("Content-Type"))
		}
	}
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/api/topics/app-settings", "DELETE, GET, HEAD, PATCH, PUT"},
		{"DELETE", "/api/events", "GET"},
		{"PUT", "/api/topics", "GET, HEAD"},
		{"GET", "/api/topics/cart/actions/clear", "POST"},
		{"POST", "/healthz", "GET, HEAD"},
		{"DELETE", "/openapi.yaml", "GET, HEAD"},
	} {
		r := h.raw(c.method, c.path, "", "")
		r.problem(t, http.StatusMethodNotAllowed)
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	// A hashed asset of another build is 404, not the app's HTML.
	h.raw("GET", "/assets/index-old.js", "", "").problem(t, http.StatusNotFound)
	if r := h.raw("GET", "/assets/index-abc.js", "", ""); r.status != 200 || r.body != "console.log(1)" {
		t.Errorf("an existing asset: %d %q", r.status, r.body)
	}
	// The app and its client routes still load.
	for _, path := range []string{"/", "/settings/deep"} {
		r := h.raw("GET", path, "", "")
		if r.status != 200 || !strings.Contains(r.body, "<title>app</title>") {
			t.Errorf("GET %s: %d %q", path, r.status, r.body)
		}
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("GET %s: %s %q, want %q", path, k, got, want)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
	}
}

// Every answer that sets a cookie is private, 304s included, so a shared
// cache never hands one browser's session to another.
func TestCookieAnswersArePrivate(t *testing.T) {
	h := start(t, memory.Open(), server.Config{Assets: testAssets})
	first := h.raw("GET", "/api/topics/app-settings", "", "")
	etag := first.header.Get("ETag")
	for _, r := range []reply{
		first,
		h.raw("GET", "/api/topics/app-settings", "", "", "If-None-Match", etag),
		h.raw("GET", "/", "", ""),
		h.raw("GET", "/api/topics", "", ""),
	} {
		if r.header.Get("Set-Cookie") == "" {
			t.Fatalf("no cookie was set: %d %v", r.status, r.header)
		}
		if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
			t.Errorf("%d answer sets a cookie with Cache-Control %q", r.status, cc)
		}
	}
	// With its session, a shared snapshot is shared again.
	b := h.browser()
	b.do("GET", "/api/topics", "")
	if r := b.do("GET", "/api/topics/app-settings", ""); r.header.Get("Cache-Control") != "no-cache" || r.header.Get("Set-Cookie") != "" {
		t.Errorf("a shared snapshot with a session: Cache-Control %q, Set-Cookie %q", r.header.Get("Cache-Control"), r.header.Get("Set-Cookie"))
	}
}

// Only cookies this server signed are sessions: a made-up id gets a new
// principal (and a new cookie), never someone else's documents.
func TestDevCookieIsSigned(t *testing.T) {
	h := startMemory(t)
	owner := h.browser()
	owner.do("PUT", "/api/topics/user-preferences", `{"displayName":"Ann","accentColor":"#112233","sidebar":"expanded","favorites":[]}`, "Content-Type", "application/json").snapshot(t)
	var cookie *http.Cookie
	for _, c := range owner.c.Jar.Cookies(mustURL(t, h.base)) {
		cookie = c
	}
	if cookie == nil || !strings.Contains(cookie.Value, ".") {
		t.Fatalf("cookie %v is not signed", cookie)
	}
	id, _, _ := strings.Cut(cookie.Value, ".")
	for _, forged := range []string{id, id + ".0.AAAA", strings.Repeat("a", 32) + cookie.Value[32:]} {
		r := h.raw("GET", "/api/topics/user-preferences", "", "", "Cookie", cookie.Name+"="+forged)
		if s := r.snapshot(t); strings.Contains(string(s.Data), "Ann") {
			t.Errorf("forged cookie %q reads the owner's document", forged)
		}
		if r.header.Get("Set-Cookie") == "" {
			t.Errorf("forged cookie %q was accepted as a session", forged)
		}
	}
	if r := h.raw("GET", "/api/topics/user-preferences", "", "", "Cookie", cookie.Name+"="+cookie.Value); !strings.Contains(r.body, "Ann") {
		t.Errorf("the real cookie does not read the document: %s", r.body)
	}
	secure := auth.Cookie{Key: auth.NewKey(), Secure: true}
	if secure.CookieName() != "__Host-pinion_session" {
		t.Errorf("a Secure cookie is named %q", secure.CookieName())
	}
}

func TestCSRF(t *testing.T) {
	h := start(t, memory.Open(), server.Config{AllowedOrigins: []string{"https://app.example.com"}})
	b := h.browser()
	before := b.do("GET", "/api/topics/app-settings", "").snapshot(t)
	events := b.stream("/api/events?topic=app-settings")
	defer events.close()
	events.next(t) // ready
	body := `{"theme":"dark","language":"en","fontSize":14,"notifications":true,"compactMode":false,"reducedMotion":false}`
	for _, hdr := range [][]string{
		{"Origin", "https://evil.example"},
		{"Origin", "null"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site", "Origin", "https://sub.127.0.0.1"},
	} {
		r := b.do("PUT", "/api/topics/app-settings", body, append([]string{"Content-Type", "application/json"}, hdr...)...)
		if p := r.problem(t, http.StatusForbidden); !strings.Contains(p.Detail, "Cross-site") {
			t.Errorf("%v: detail %q", hdr, p.Detail)
		}
	}
	events.none(t, 200_000_000)
	if after := b.do("GET", "/api/topics/app-settings", "").snapshot(t); after.Revision != before.Revision {
		t.Fatalf("a refused write changed the document")
	}
	for _, hdr := range [][]string{
		{"Origin", h.base},
		{"Sec-Fetch-Site", "same-origin", "Origin", h.base},
		{"Origin", "https://app.example.com", "Sec-Fetch-Site", "cross-site"},
		{}, // not a browser
	} {
		b.do("PUT", "/api/topics/app-settings", body, append([]string{"Content-Type", "application/json"}, hdr...)...).snapshot(t)
	}
}

func TestWriteRateLimits(t *testing.T) {
	h := start(t, memory.Open(), server.Config{Security: server.Security{RatePerPrincipal: 0.01}})
	b := h.browser()
	inc := func(b *browser) reply {
		return b.do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json")
	}
	inc(b).snapshot(t) // the burst is 1
	r := inc(b)
	p := r.problem(t, http.StatusTooManyRequests)
	if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if !strings.Contains(p.Detail, "this caller") {
		t.Errorf("detail %q", p.Detail)
	}
	// Reads are not limited, and another principal writes.
	b.do("GET", "/api/topics/counter", "").snapshot(t)
	inc(h.browser()).snapshot(t)

	a := start(t, memory.Open(), server.Config{Security: server.Security{RatePerAddress: 0.01}})
	inc(a.browser()).snapshot(t)
	a.browser().do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json").problem(t, http.StatusTooManyRequests)

	// New anonymous principals: each new session may start writing only
	// so often per address; sessions already writing go on.
	n := start(t, memory.Open(), server.Config{Security: server.Security{NewPrincipalsPerMinute: 2}})
	first := n.browser()
	for range 2 {
		inc(n.browser()).snapshot(t)
	}
	inc(first).problem(t, http.StatusTooManyRequests)
	for range 3 {
		r := n.raw("DELETE", "/api/topics/cart", "", "")
		r.problem(t, http.StatusTooManyRequests)
	}
}

func TestInflightBodies(t *testing.T) {
	h := start(t, memory.Open(), server.Config{Security: server.Security{MaxInflightBytes: 10}})
	b := h.browser()
	b.do("GET", "/api/topics", "")
	// A body that arrives slowly holds its bytes of the budget...
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", h.base+"/api/topics/counter/actions/increment", pr)
	req.ContentLength = 8
	req.Header.Set("Content-Type", "application/json")
	slow := make(chan int, 1)
	// Its own connection: on a reused idle one that the server closed in
	// the meantime the transport cannot retry a streamed body, and the
	// request would fail before it ever held the budget.
	fresh := &http.Transport{}
	defer fresh.CloseIdleConnections()
	slowClient := &http.Client{Jar: b.c.Jar, Transport: fresh}
	go func() {
		resp, err := slowClient.Do(req)
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	// ...so another body that does not fit is refused at once, until it
	// is done.
	waitFor(t, "the slow body to hold the budget", func() bool {
		r := b.do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json")
		// 200 until the slow request has reached the server.
		return r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") != ""
	})
	if _, err := pw.Write([]byte(`{"by":1}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if st := <-slow; st != http.StatusOK {
		t.Fatalf("the slow write: status %d", st)
	}
	b.do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json").snapshot(t)
}

func TestConfigurationsThatCannotWork(t *testing.T) {
	for _, c := range []struct {
		origins []string
		want    string
	}{
		{[]string{"*"}, "list the origins"},
		{[]string{"https://app.example.com/"}, `write "https://app.example.com"`},
		{[]string{"app.example.com"}, "scheme://host"},
		{[]string{"https://app.example.com/path"}, `write "https://app.example.com"`},
	} {
		_, err := server.New(server.Config{AllowedOrigins: c.origins}, memory.Open(), testTopics(t), auth.Cookie{Key: auth.NewKey()}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.origins, err, c.want)
		}
	}
	_, err := server.New(server.Config{Security: server.Security{TrustedProxies: []string{"10.0.0.0/40"}}}, memory.Open(), testTopics(t), auth.Cookie{Key: auth.NewKey()}, nil)
	if err == nil {
		t.Error("a bad trusted proxy is accepted")
	}
	// A server whose OpenAPI document cannot be generated does not start,
	// rather than serve an empty document (issue 7).
	_, err = server.New(server.Config{}, memory.Open(), nil, auth.Cookie{Key: auth.NewKey()}, nil)
	if err == nil || !strings.Contains(err.Error(), "generating the OpenAPI document") {
		t.Errorf("no topic set: %v, want an error about the OpenAPI document", err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
