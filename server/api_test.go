package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
)

type snap struct {
	Revision string          `json:"revision"`
	Data     json.RawMessage `json:"data"`
}

type problem struct {
	Type            string `json:"type"`
	Title           string `json:"title"`
	Status          int    `json:"status"`
	Detail          string `json:"detail"`
	CurrentRevision string `json:"currentRevision"`
	Errors          []struct {
		Field, Pointer, Rule, Param, Message string
	} `json:"errors"`
}

func decodeStrict(t *testing.T, body string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}

func (r reply) snapshot(t *testing.T) snap {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var s snap
	decodeStrict(t, r.body, &s)
	if _, err := store.ParseRevision(s.Revision); err != nil {
		t.Fatalf("revision: %v", err)
	}
	if got, want := r.header.Get("ETag"), `"`+s.Revision+`"`; got != want {
		t.Fatalf("ETag %q, want %q", got, want)
	}
	return s
}

func (r reply) problem(t *testing.T, status int) problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json (%s)", ct, r.body)
	}
	var p problem
	decodeStrict(t, r.body, &p)
	if p.Status != status || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Fatalf("incomplete problem: %s", r.body)
	}
	return p
}

func field(t *testing.T, raw json.RawMessage, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}

func rev(t *testing.T, s string) store.Revision {
	t.Helper()
	r, err := store.ParseRevision(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const validSettings = `{"theme":"dark","language":"fr-CA","fontSize":18,"notifications":false,"compactMode":true,"reducedMotion":false}`

func TestSnapshotReads(t *testing.T) {
	h := startMemory(t)
	b := h.browser()

	first := b.do("GET", "/api/topics/app-settings", "").snapshot(t)
	if got := field(t, first.Data, "theme"); got != "system" {
		t.Fatalf("default theme %v", got)
	}
	if r := rev(t, first.Revision); r != h.st.Info().Initial {
		t.Fatalf("never-written revision %d, want initial %d", r, h.st.Info().Initial)
	}

	t.Run("shared cache headers", func(t *testing.T) {
		r := b.do("GET", "/api/topics/app-settings", "")
		if got := r.header.Get("Cache-Control"); got != "no-cache" {
			t.Fatalf("Cache-Control %q", got)
		}
	})
	t.Run("per-principal cache headers", func(t *testing.T) {
		r := b.do("GET", "/api/topics/user-preferences", "")
		r.snapshot(t)
		if got := r.header.Get("Cache-Control"); got != "private, no-cache" {
			t.Fatalf("Cache-Control %q", got)
		}
		if got := r.header.Get("Vary"); got != "Cookie, Authorization" {
			t.Fatalf("Vary %q", got)
		}
	})
	etag := `"` + first.Revision + `"`
	for _, inm := range []string{etag, "*", `"1", ` + etag, `W/` + etag} {
		t.Run("If-None-Match "+inm, func(t *testing.T) {
			r := b.do("GET", "/api/topics/app-settings", "", "If-None-Match", inm)
			if r.status != http.StatusNotModified || r.body != "" || r.header.Get("ETag") != etag {
				t.Fatalf("got %d %q ETag %q", r.status, r.body, r.header.Get("ETag"))
			}
		})
	}
	t.Run("If-None-Match stale", func(t *testing.T) {
		b.do("GET", "/api/topics/app-settings", "", "If-None-Match", `"1"`).snapshot(t)
	})
	for _, path := range []string{"/api/topics/nope", "/api/topics/Bad%20Name", "/api/topics/" + strings.Repeat("a", 129), "/api/nothing", "/api/topics/app-settings/actions/toggle-theme/x"} {
		t.Run("404 "+path, func(t *testing.T) {
			b.do("GET", path, "").problem(t, 404)
		})
	}
	t.Run("list", func(t *testing.T) {
		b.do("PUT", "/api/topics/cart", `{"items":[],"coupon":"SAVE10"}`, "Content-Type", "application/json").snapshot(t)
		r := b.do("GET", "/api/topics", "")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var list struct {
			Topics []struct{ Topic, Revision, Scope string } `json:"topics"`
		}
		decodeStrict(t, r.body, &list)
		got := map[string]string{}
		for _, e := range list.Topics {
			got[e.Topic] = e.Scope
			rev(t, e.Revision)
		}
		want := map[string]string{"app-settings": "shared", "user-preferences": "per-principal", "cart": "per-principal", "counter": "shared"}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("topic %s scope %q, want %q (%s)", k, got[k], v, r.body)
			}
		}
		cart := b.do("GET", "/api/topics/cart", "").snapshot(t)
		for _, e := range list.Topics {
			if e.Topic == "cart" && e.Revision != cart.Revision {
				t.Fatalf("list revision %s, snapshot %s", e.Revision, cart.Revision)
			}
		}
	})
}

func TestWrites(t *testing.T) {
	h := startMemory(t)
	b := h.browser()
	base := b.do("GET", "/api/topics/app-settings", "").snapshot(t)
	last := rev(t, base.Revision)
	next := func(t *testing.T, r reply) snap {
		t.Helper()
		s := r.snapshot(t)
		if got := rev(t, s.Revision); got <= last {
			t.Fatalf("revision %d not above %d", got, last)
		} else {
			last = got
		}
		return s
	}

	t.Run("PUT replaces", func(t *testing.T) {
		s := next(t, b.do("PUT", "/api/topics/app-settings", validSettings, "Content-Type", "application/json; charset=utf-8"))
		if field(t, s.Data, "theme") != "dark" || field(t, s.Data, "fontSize") != float64(18) {
			t.Fatalf("data %s", s.Data)
		}
		got := b.do("GET", "/api/topics/app-settings", "").snapshot(t)
		if got.Revision != s.Revision || string(got.Data) != string(s.Data) {
			t.Fatalf("read back %+v, wrote %+v", got, s)
		}
	})
	t.Run("PUT of identical data still commits", func(t *testing.T) {
		next(t, b.do("PUT", "/api/topics/app-settings", validSettings, "Content-Type", "application/json"))
	})
	t.Run("PATCH merges", func(t *testing.T) {
		s := next(t, b.do("PATCH", "/api/topics/app-settings", `{"fontSize":20}`, "Content-Type", "application/merge-patch+json"))
		if field(t, s.Data, "fontSize") != float64(20) || field(t, s.Data, "theme") != "dark" {
			t.Fatalf("data %s", s.Data)
		}
	})
	t.Run("action", func(t *testing.T) {
		s := next(t, b.do("POST", "/api/topics/cart/actions/add-item", `{"sku":"A1","name":"Mug","priceCents":1200,"qty":2}`, "Content-Type", "application/json"))
		if !strings.Contains(string(s.Data), `"qty":2`) {
			t.Fatalf("data %s", s.Data)
		}
		s = next(t, b.do("POST", "/api/topics/cart/actions/add-item", `{"sku":"A1","name":"Mug","priceCents":1200,"qty":3}`, "Content-Type", "application/json"))
		if !strings.Contains(string(s.Data), `"qty":5`) {
			t.Fatalf("data %s", s.Data)
		}
	})
	t.Run("DELETE resets at a new revision", func(t *testing.T) {
		s := next(t, b.do("DELETE", "/api/topics/app-settings", ""))
		if field(t, s.Data, "theme") != "system" {
			t.Fatalf("data %s", s.Data)
		}
	})
	t.Run("If-Match", func(t *testing.T) {
		cur := b.do("GET", "/api/topics/app-settings", "").snapshot(t)
		etag := `"` + cur.Revision + `"`
		for _, im := range []string{`"1"`, `W/` + etag, `"1", "2"`} {
			p := b.do("PUT", "/api/topics/app-settings", validSettings, "Content-Type", "application/json", "If-Match", im)
			pr := p.problem(t, http.StatusPreconditionFailed)
			if pr.CurrentRevision != cur.Revision || p.header.Get("ETag") != etag {
				t.Fatalf("412 body %s ETag %q", p.body, p.header.Get("ETag"))
			}
		}
		if now := b.do("GET", "/api/topics/app-settings", "").snapshot(t); now.Revision != cur.Revision {
			t.Fatal("412 changed the document")
		}
		s := next(t, b.do("PUT", "/api/topics/app-settings", validSettings, "Content-Type", "application/json", "If-Match", etag))
		next(t, b.do("PATCH", "/api/topics/app-settings", `{"compactMode":false}`, "Content-Type", "application/merge-patch+json", "If-Match", `"1", "`+s.Revision+`"`))
		next(t, b.do("DELETE", "/api/topics/app-settings", "", "If-Match", "*"))
	})
}

func TestWriteErrorsChangeNothing(t *testing.T) {
	h := startMemory(t)
	b := h.browser()
	b.do("PUT", "/api/topics/app-settings", validSettings, "Content-Type", "application/json").snapshot(t)
	before := b.do("GET", "/api/topics/app-settings", "").snapshot(t)

	big := `{"theme":"dark","language":"en","fontSize":12,"x":"` + strings.Repeat("a", 1<<20) + `"}`
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		check                    func(t *testing.T, p problem)
	}{
		{"syntax error", "PUT", "/api/topics/app-settings", `{"theme": "dark",}`, []string{"Content-Type", "application/json"}, 400,
			func(t *testing.T, p problem) {
				if !strings.Contains(p.Detail, "line 1") {
					t.Errorf("detail does not say where: %q", p.Detail)
				}
			}},
		{"trailing data", "PUT", "/api/topics/app-settings", validSettings + ` {}`, []string{"Content-Type", "application/json"}, 400, nil},
		{"empty body", "PUT", "/api/topics/app-settings", ``, []string{"Content-Type", "application/json"}, 400, nil},
		{"no content type", "PUT", "/api/topics/app-settings", validSettings, nil, 415, nil},
		{"wrong content type", "PUT", "/api/topics/app-settings", validSettings, []string{"Content-Type", "text/plain"}, 415, nil},
		{"wrong charset", "PUT", "/api/topics/app-settings", validSettings, []string{"Content-Type", "application/json; charset=latin1"}, 415, nil},
		{"merge patch type on PUT", "PUT", "/api/topics/app-settings", validSettings, []string{"Content-Type", "application/merge-patch+json"}, 415, nil},
		{"json type on PATCH", "PATCH", "/api/topics/app-settings", `{"fontSize":12}`, []string{"Content-Type", "application/json"}, 415, nil},
		{"too large", "PUT", "/api/topics/app-settings", big, []string{"Content-Type", "application/json"}, 413, nil},
		{"bad source id", "PUT", "/api/topics/app-settings", validSettings, []string{"Content-Type", "application/json", "X-Source-Id", strings.Repeat("x", 129)}, 400, nil},
		{"control char source id", "PUT", "/api/topics/app-settings", validSettings, []string{"Content-Type", "application/json", "X-Source-Id", "a\tb"}, 400, nil},
		{"malformed If-Match", "PUT", "/api/topics/app-settings", validSettings, []string{"Content-Type", "application/json", "If-Match", "123"}, 400, nil},
		{"unknown topic", "PUT", "/api/topics/nope", validSettings, []string{"Content-Type", "application/json"}, 404, nil},
		{"unknown action", "POST", "/api/topics/cart/actions/explode", `{}`, []string{"Content-Type", "application/json"}, 404, nil},
		{"rule violations", "PUT", "/api/topics/app-settings", `{"theme":"neon","language":"en","fontSize":99}`, []string{"Content-Type", "application/json"}, 422,
			func(t *testing.T, p problem) {
				want := map[string]string{"/theme": "oneof", "/fontSize": "max"}
				if len(p.Errors) != 2 {
					t.Fatalf("errors %+v", p.Errors)
				}
				for _, e := range p.Errors {
					if want[e.Pointer] != e.Rule || e.Message == "" || e.Field != strings.TrimPrefix(e.Pointer, "/") {
						t.Errorf("entry %+v", e)
					}
					if e.Rule == "max" && e.Param != "32" {
						t.Errorf("param %q", e.Param)
					}
				}
			}},
		{"unknown field", "PUT", "/api/topics/app-settings", `{"theme":"dark","language":"en","fontSize":12,"colour":"red"}`, []string{"Content-Type", "application/json"}, 422,
			func(t *testing.T, p problem) {
				if len(p.Errors) == 0 || p.Errors[0].Rule != "unknown" || p.Errors[0].Pointer != "/colour" {
					t.Errorf("errors %+v", p.Errors)
				}
			}},
		{"wrong type", "PUT", "/api/topics/app-settings", `{"theme":"dark","language":"en","fontSize":"big"}`, []string{"Content-Type", "application/json"}, 422,
			func(t *testing.T, p problem) {
				if len(p.Errors) == 0 || p.Errors[0].Rule != "type" || p.Errors[0].Pointer != "/fontSize" {
					t.Errorf("errors %+v", p.Errors)
				}
			}},
		{"document not an object", "PUT", "/api/topics/app-settings", `[1,2]`, []string{"Content-Type", "application/json"}, 422, nil},
		{"patch not an object", "PATCH", "/api/topics/app-settings", `"dark"`, []string{"Content-Type", "application/merge-patch+json"}, 422, nil},
		{"patch makes it invalid", "PATCH", "/api/topics/app-settings", `{"fontSize":5}`, []string{"Content-Type", "application/merge-patch+json"}, 422,
			func(t *testing.T, p problem) {
				if len(p.Errors) != 1 || p.Errors[0].Pointer != "/fontSize" || p.Errors[0].Rule != "min" {
					t.Errorf("errors %+v", p.Errors)
				}
			}},
		{"patch deletes a required field", "PATCH", "/api/topics/app-settings", `{"theme":null}`, []string{"Content-Type", "application/merge-patch+json"}, 422, nil},
		{"nested rule", "PUT", "/api/topics/cart", `{"items":[{"sku":"A","name":"a","qty":1,"priceCents":1},{"sku":"B","name":"b","qty":0,"priceCents":1}],"coupon":""}`, []string{"Content-Type", "application/json"}, 422,
			func(t *testing.T, p problem) {
				if len(p.Errors) != 1 || p.Errors[0].Pointer != "/items/1/qty" || p.Errors[0].Field != "qty" || p.Errors[0].Rule != "min" {
					t.Errorf("errors %+v", p.Errors)
				}
			}},
		{"action input invalid", "POST", "/api/topics/cart/actions/add-item", `{"sku":"","name":"x","priceCents":1,"qty":1}`, []string{"Content-Type", "application/json"}, 422, nil},
		{"action result invalid", "POST", "/api/topics/cart/actions/add-item", `{"sku":"A1","name":"Mug","priceCents":1,"qty":99}`, []string{"Content-Type", "application/json"}, 422, nil},
		{"action rejects", "POST", "/api/topics/cart/actions/remove-item", `{"sku":"ZZZ"}`, []string{"Content-Type", "application/json"}, 422, nil},
		{"method not allowed", "POST", "/api/topics/app-settings", validSettings, []string{"Content-Type", "application/json"}, 0, nil},
	}
	// The cart gets one line so that "action result invalid" pushes it over 99.
	b.do("POST", "/api/topics/cart/actions/add-item", `{"sku":"A1","name":"Mug","priceCents":1,"qty":5}`, "Content-Type", "application/json").snapshot(t)
	events := b.stream("/api/events")
	events.next(t).ready(t)
	cartBefore := b.do("GET", "/api/topics/cart", "").snapshot(t)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(tc.method, tc.path, tc.body, tc.headers...)
			if tc.status == 0 {
				if r.status < 400 || r.status >= 500 {
					t.Fatalf("status %d", r.status)
				}
				r.problem(t, r.status)
				return
			}
			p := r.problem(t, tc.status)
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
	if after := b.do("GET", "/api/topics/app-settings", "").snapshot(t); after.Revision != before.Revision || string(after.Data) != string(before.Data) {
		t.Fatalf("failed writes changed app-settings: %+v -> %+v", before, after)
	}
	if after := b.do("GET", "/api/topics/cart", "").snapshot(t); after.Revision != cartBefore.Revision {
		t.Fatalf("failed writes changed the cart")
	}
	events.none(t, 300*time.Millisecond)
}

func TestPrincipalIsolation(t *testing.T) {
	h := startMemory(t)
	alice, bob := h.browser(), h.browser()
	aliceEvents := alice.stream("/api/events")
	bobEvents := bob.stream("/api/events")
	aliceEvents.next(t)
	bobEvents.next(t)

	a := alice.do("PUT", "/api/topics/user-preferences", `{"displayName":"Alice","accentColor":"#ff0000","sidebar":"collapsed","favorites":["a"]}`, "Content-Type", "application/json").snapshot(t)
	b := bob.do("GET", "/api/topics/user-preferences", "").snapshot(t)
	if field(t, b.Data, "displayName") != "" {
		t.Fatalf("bob sees %s", b.Data)
	}
	if rev(t, b.Revision) != h.st.Info().Initial {
		t.Fatal("bob's document has a revision")
	}
	ev := aliceEvents.next(t)
	if ev.name != "invalidation" || !strings.Contains(ev.data, `"user-preferences"`) || !strings.Contains(ev.data, a.Revision) {
		t.Fatalf("alice got %+v", ev)
	}
	bobEvents.none(t, 300*time.Millisecond)

	// Shared topics reach both.
	alice.do("PATCH", "/api/topics/app-settings", `{"fontSize":16}`, "Content-Type", "application/merge-patch+json").snapshot(t)
	for _, s := range []*sseConn{aliceEvents, bobEvents} {
		if ev := s.next(t); !strings.Contains(ev.data, `"app-settings"`) {
			t.Fatalf("got %+v", ev)
		}
	}
	// Bob resuming from the start sees only his own and shared documents.
	replay := bob.stream("/api/events", "Last-Event-ID", "foreign.1")
	for {
		ev := replay.next(t)
		if ev.name == "ready" {
			break
		}
		if strings.Contains(ev.data, a.Revision) {
			t.Fatalf("bob's replay leaked alice's revision: %+v", ev)
		}
	}
}

func TestConcurrentActionsLoseNoUpdate(t *testing.T) {
	h := startMemory(t)
	const per = 1000
	errs := make(chan error, 2)
	for w := 0; w < 2; w++ {
		b := h.browser()
		go func() {
			for i := 0; i < per; i++ {
				r := b.do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json")
				if r.status != 200 {
					errs <- fmt.Errorf("status %d: %s", r.status, r.body)
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := h.browser().do("GET", "/api/topics/counter", "").snapshot(t)
	if got := field(t, s.Data, "n"); got != float64(2*per) {
		t.Fatalf("counter %v, want %d", got, 2*per)
	}
}

// TestAppPageSetsSession: the first page load issues the session cookie,
// so the page's parallel first API calls share one principal.
func TestAppPageSetsSession(t *testing.T) {
	h := start(t, memory.Open(), server.Config{Assets: fstest.MapFS{
		"index.html":    {Data: []byte("<!doctype html><title>x</title>")},
		"assets/app.js": {Data: []byte("1")},
	}})
	b := h.browser()
	r := b.do("GET", "/some/client/route", "")
	if r.status != 200 || !strings.Contains(r.body, "<title>x</title>") || !strings.Contains(r.header.Get("Set-Cookie"), "pinion_session=") {
		t.Fatalf("page: %d %v %q", r.status, r.header, r.body)
	}
	if r := b.do("GET", "/assets/app.js", ""); r.header.Get("Set-Cookie") != "" || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("asset: %v", r.header)
	}
	if r := b.do("GET", "/api/topics/user-preferences", ""); r.header.Get("Set-Cookie") != "" {
		t.Fatal("the API issued a second session")
	}
	b.do("GET", "/api/unknown", "").problem(t, 404)
}
