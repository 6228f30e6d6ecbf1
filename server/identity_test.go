package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/server/servertest"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/topic"
)

// Notes is a per-tenant test topic.
type Notes struct {
	Text string `json:"text" validate:"max=200"`
}

var jwtSecret = []byte("0123456789abcdef0123456789abcdef")

// startJWT runs a server with bearer tokens, the demo policies and a
// per-tenant topic.
func startJWT(t *testing.T) *harness {
	t.Helper()
	notes := topic.Define("team-notes", topic.Spec[Notes]{Description: "A tenant's notes.", Scope: topic.PerTenant})
	set, err := topic.NewSet(append(demo.Topics(), notes))
	if err != nil {
		t.Fatal(err)
	}
	who, err := auth.NewJWT(context.Background(), auth.JWTConfig{Secret: jwtSecret, Issuer: "pinion-test", Audience: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.Open()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Security: server.Security{Policies: demo.Policies()}}, st, set, who, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, base: servertest.Run(t, srv), srv: srv, st: st}
}

func token(t *testing.T, claims jwt.MapClaims, key []byte, method jwt.SigningMethod) string {
	t.Helper()
	base := jwt.MapClaims{"iss": "pinion-test", "aud": "demo", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	s, err := jwt.NewWithClaims(method, base).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bearerFor(t *testing.T, claims jwt.MapClaims) []string {
	return []string{"Authorization", "Bearer " + token(t, claims, jwtSecret, jwt.SigningMethodHS256)}
}

const settingsBody = `{"theme":"dark","language":"en","fontSize":14,"notifications":true,"compactMode":false,"reducedMotion":false}`

// every route of one topic, as (method, path, body, content type).
var topicRoutes = [][4]string{
	{"GET", "/api/topics/app-settings", "", ""},
	{"PUT", "/api/topics/app-settings", settingsBody, "application/json"},
	{"PATCH", "/api/topics/app-settings", `{"theme":"light"}`, "application/merge-patch+json"},
	{"DELETE", "/api/topics/app-settings", "", ""},
	{"POST", "/api/topics/app-settings/actions/toggle-theme", `{}`, "application/json"},
}

func TestJWTRefusesBadCredentials(t *testing.T) {
	h := startJWT(t)
	other := []byte("another-key-another-key-another!!")
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x", "iss": "pinion-test", "aud": "demo", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for name, hdr := range map[string][]string{
		"no credentials": nil,
		"not bearer":     {"Authorization", "Basic YTpi"},
		"garbage":        {"Authorization", "Bearer abc.def.ghi"},
		"wrong key":      {"Authorization", "Bearer " + token(t, jwt.MapClaims{"sub": "alice"}, other, jwt.SigningMethodHS256)},
		"alg none":       {"Authorization", "Bearer " + none},
		"expired":        bearerFor(t, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(-time.Hour).Unix()}),
		"no exp":         bearerFor(t, jwt.MapClaims{"sub": "alice", "exp": nil}),
		"wrong issuer":   bearerFor(t, jwt.MapClaims{"sub": "alice", "iss": "evil"}),
		"wrong audience": bearerFor(t, jwt.MapClaims{"sub": "alice", "aud": "other"}),
		"no subject":     bearerFor(t, jwt.MapClaims{}),
		"tenant number":  bearerFor(t, jwt.MapClaims{"sub": "alice", "tenant": 7}),
		"session cookie": {"Cookie", "pinion_token=" + token(t, jwt.MapClaims{"sub": "alice"}, other, jwt.SigningMethodHS256)},
	} {
		routes := append(topicRoutes, [4]string{"GET", "/api/topics", "", ""}, [4]string{"GET", "/api/events", "", ""})
		for _, rt := range routes {
			hdrs := append([]string{}, hdr...)
			if rt[3] != "" {
				hdrs = append(hdrs, "Content-Type", rt[3])
			}
			r := h.raw(rt[0], rt[1], "", rt[2], hdrs...)
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s: %s %s: status %d, want 401: %s", name, rt[0], rt[1], r.status, r.body)
				continue
			}
			r.problem(t, http.StatusUnauthorized)
		}
	}
}

// The demo policy: everyone reads app-settings, only admins change it, on
// every route; a refusal changes nothing and raises nothing.
func TestPolicyOnEveryRoute(t *testing.T) {
	h := startJWT(t)
	user := bearerFor(t, jwt.MapClaims{"sub": "alice"})
	admin := bearerFor(t, jwt.MapClaims{"sub": "root", "roles": []string{"ops", "admin"}})
	b := h.browser()
	before := b.do("GET", "/api/topics/app-settings", "", user...).snapshot(t)
	events := b.stream("/api/events?topic=app-settings", user...) // Authorization on the stream
	if e := events.next(t); e.name != "ready" {
		t.Fatalf("first event %q", e.name)
	}
	for _, rt := range topicRoutes[1:] {
		r := b.do(rt[0], rt[1], rt[2], append([]string{"Content-Type", rt[3]}, user...)...)
		if p := r.problem(t, http.StatusForbidden); !strings.Contains(p.Detail, "app-settings") {
			t.Errorf("%s: detail %q", rt[0], p.Detail)
		}
	}
	events.none(t, 300*time.Millisecond)
	if after := b.do("GET", "/api/topics/app-settings", "", user...).snapshot(t); after.Revision != before.Revision {
		t.Fatal("a refused write changed app-settings")
	}
	for _, rt := range topicRoutes[1:] {
		s := b.do(rt[0], rt[1], rt[2], append([]string{"Content-Type", rt[3]}, admin...)...).snapshot(t)
		if e := events.next(t); e.name != "invalidation" || !strings.Contains(e.data, s.Revision) {
			t.Fatalf("%s by an admin: event %+v, want the invalidation of %s", rt[0], e, s.Revision)
		}
	}
}

func TestPrincipalsAndTenantsAreIsolated(t *testing.T) {
	h := startJWT(t)
	alice := bearerFor(t, jwt.MapClaims{"sub": "alice", "tenant": "acme"})
	bob := bearerFor(t, jwt.MapClaims{"sub": "bob", "tenant": "acme"})
	eve := bearerFor(t, jwt.MapClaims{"sub": "alice", "tenant": "globex"}) // same sub, other tenant
	loner := bearerFor(t, jwt.MapClaims{"sub": "carol"})
	b := h.browser()

	eveStream := b.stream("/api/events", eve...)
	eveStream.next(t) // ready
	bobStream := b.stream("/api/events?topic=team-notes&topic=cart", bob...)
	bobStream.next(t)

	s := b.do("PUT", "/api/topics/team-notes", `{"text":"acme plans"}`, append([]string{"Content-Type", "application/json"}, alice...)...).snapshot(t)
	if e := bobStream.next(t); e.name != "invalidation" || !strings.Contains(e.data, s.Revision) || !strings.Contains(e.data, "team-notes") {
		t.Fatalf("bob (same tenant) got %+v, want the team-notes invalidation", e)
	}
	if r := b.do("GET", "/api/topics/team-notes", "", bob...); !strings.Contains(r.body, "acme plans") {
		t.Errorf("bob does not read his tenant's notes: %s", r.body)
	}
	if r := b.do("GET", "/api/topics/team-notes", "", eve...); strings.Contains(r.body, "acme") || r.status != 200 {
		t.Errorf("another tenant reads %d %s", r.status, r.body)
	}
	// A per-principal write of alice@acme is not alice@globex's.
	b.do("POST", "/api/topics/cart/actions/add-item", `{"sku":"A1","name":"Pen","priceCents":100,"qty":1}`, append([]string{"Content-Type", "application/json"}, alice...)...).snapshot(t)
	if r := b.do("GET", "/api/topics/cart", "", eve...); strings.Contains(r.body, "Pen") {
		t.Errorf("alice of another tenant sees the cart: %s", r.body)
	}
	eveStream.none(t, 300*time.Millisecond)
	bobStream.none(t, 100*time.Millisecond)

	// Without a tenant, a per-tenant topic is refused, and left out of the
	// list and of the default stream.
	for _, rt := range [][3]string{{"GET", "/api/topics/team-notes", ""}, {"PUT", "/api/topics/team-notes", `{"text":"x"}`}, {"GET", "/api/events?topic=team-notes", ""}} {
		b.do(rt[0], rt[1], rt[2], append([]string{"Content-Type", "application/json"}, loner...)...).problem(t, http.StatusForbidden)
	}
	if r := b.do("GET", "/api/topics", "", loner...); strings.Contains(r.body, "team-notes") || r.status != 200 {
		t.Errorf("the list of a caller without tenant: %d %s", r.status, r.body)
	}
	if r := b.do("GET", "/api/topics", "", eve...); !strings.Contains(r.body, `"scope":"per-tenant"`) {
		t.Errorf("the list of a tenant's member lacks the per-tenant topic: %s", r.body)
	}
}

// POST /api/session turns a bearer token into an HttpOnly cookie, so that
// a plain EventSource is authenticated; the stream ends at the token's
// expiry with an event telling the client to authenticate again.
func TestSessionCookieAndExpiry(t *testing.T) {
	h := startJWT(t)
	b := h.browser()
	b.do("POST", "/api/session", "").problem(t, http.StatusUnauthorized)
	exp := time.Now().Add(3 * time.Second)
	r := b.do("POST", "/api/session", "", bearerFor(t, jwt.MapClaims{"sub": "alice", "exp": exp.Unix()})...)
	if r.status != http.StatusNoContent {
		t.Fatalf("POST /api/session: %d %s", r.status, r.body)
	}
	ck := r.header.Get("Set-Cookie")
	if !strings.Contains(ck, "pinion_token=") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
		t.Fatalf("session cookie %q", ck)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Errorf("Cache-Control %q", cc)
	}
	// The cookie alone authenticates reads and the stream...
	b.do("GET", "/api/topics/cart", "").snapshot(t)
	s := b.stream("/api/events?topic=cart")
	if e := s.next(t); e.name != "ready" {
		t.Fatalf("first event %q", e.name)
	}
	// ...but a cookie-borne write from another site is refused.
	b.do("DELETE", "/api/topics/cart", "", "Origin", "https://evil.example").problem(t, http.StatusForbidden)
	// At expiry the stream says so, and ends.
	deadline := time.After(30 * time.Second)
	for {
		var e event
		select {
		case e = <-s.events:
		case <-deadline:
			t.Fatal("no reauthenticate event after the token expired")
		}
		if e.name == "reauthenticate" {
			break
		}
		if e.comment == "" && e.name != "" {
			t.Fatalf("unexpected event %+v", e)
		}
	}
	s.waitClosed(t)
	if time.Now().Before(time.Unix(exp.Unix(), 0)) {
		t.Fatal("the stream ended before the credential expired")
	}
	// The expired cookie is refused; DELETE clears it.
	b.do("GET", "/api/topics/cart", "").problem(t, http.StatusUnauthorized)
	if r := b.do("DELETE", "/api/session", ""); r.status != http.StatusNoContent || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("DELETE /api/session: %d %q", r.status, r.header.Get("Set-Cookie"))
	}
}
