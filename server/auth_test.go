package server_test

import (
	"net/http"
	"testing"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/memory"
)

// refuse is an authenticator that turns every request away with err.
type refuse struct{ err error }

func (r refuse) Authenticate(http.ResponseWriter, *http.Request) (string, error) { return "", r.err }

func TestAuthenticationFailures(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{{auth.ErrUnauthenticated, 401}, {auth.ErrForbidden, 403}} {
		h := startWith(t, memory.Open(), refuse{tc.err}, server.Config{})
		b := h.browser()
		requests := [][]string{
			{"GET", "/api/topics", ""},
			{"GET", "/api/topics/app-settings", ""},
			{"PUT", "/api/topics/app-settings", validSettings, "Content-Type", "application/json"},
			{"PATCH", "/api/topics/app-settings", `{}`, "Content-Type", "application/merge-patch+json"},
			{"POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json"},
			{"DELETE", "/api/topics/app-settings", ""},
			{"GET", "/api/events", ""},
		}
		for _, r := range requests {
			b.do(r[0], r[1], r[2], r[3:]...).problem(t, tc.status)
		}
		// Health checks need no credentials.
		if r := b.do("GET", "/readyz", ""); r.status != 200 {
			t.Fatalf("readyz %d", r.status)
		}
	}
}

func TestCORS(t *testing.T) {
	h := start(t, memory.Open(), server.Config{AllowedOrigins: []string{"https://app.example"}})
	b := h.browser()
	r := b.do("OPTIONS", "/api/topics/app-settings", "",
		"Origin", "https://app.example",
		"Access-Control-Request-Method", "PUT",
		"Access-Control-Request-Headers", "content-type, if-match, x-source-id")
	if r.status != http.StatusNoContent ||
		r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		r.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight %d %v", r.status, r.header)
	}
	r = b.do("GET", "/api/topics/app-settings", "", "Origin", "https://app.example")
	if r.header.Get("Access-Control-Expose-Headers") != "ETag" {
		t.Fatalf("ETag not exposed: %v", r.header)
	}
	r = b.do("GET", "/api/topics/app-settings", "", "Origin", "https://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign origin allowed: %v", r.header)
	}
}
