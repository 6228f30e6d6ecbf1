package server_test

// Fuzz targets for every decoder on the request path, driven through the
// real HTTP server (Echo, the handlers, the topic kit, the store), so they
// keep testing the decoders whatever shape the code inside takes: JSON
// bodies (PUT, actions), merge patches (PATCH), If-Match and If-None-Match,
// X-Source-Id, topic and action names in the path, and the stream's
// Last-Event-ID, lastEventId and topic parameters. The pure parsers have
// their own targets next to them (store, protocol). Their seeds run with
// every `go test`; run one for longer with, for example,
//
//	go test -run '^$' -fuzz '^FuzzWrite$' -fuzztime 10m -parallel 1 ./server/
//
// Each target checks what must hold for any input: no 5xx, every error is
// a problem+json whose status matches, and a refused write changes
// nothing.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/server/servertest"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/topic"
)

type fuzzServer struct {
	base  string
	c     *http.Client
	fresh *recorder
}

func startFuzz(f *testing.F) *fuzzServer {
	f.Helper()
	topics, err := topic.NewSet(demo.Topics())
	if err != nil {
		f.Fatal(err)
	}
	rec := &recorder{seen: map[string][]time.Duration{}}
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", MaxStreamsPerPrincipal: 10000, Freshness: server.Freshness{Recorder: rec}},
		memory.Open(), topics, auth.Cookie{Key: auth.NewKey()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return &fuzzServer{base: servertest.Run(f, srv), c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, fresh: rec}
}

// send returns nil when Go's client refuses to send the request (a header
// value with a control character, say): the server never sees it.
func (s *fuzzServer) send(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := s.c.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "invalid") || strings.Contains(err.Error(), "malformed") {
			return nil
		}
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return resp
}

// exchange sends req, reads and closes the answer and checks it with
// checkProblem; like send, it returns a nil response when Go's client
// refuses to send the request.
func (s *fuzzServer) exchange(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp := s.send(t, req)
	if resp == nil {
		return nil, nil
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkProblem(t, resp, data)
	return resp, data
}

// checkProblem asserts the answer is not a server error, and that an
// error answer is a well-formed problem of its own status.
func checkProblem(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s: %d %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, body)
	}
	if resp.StatusCode < 400 || resp.Request.Method == http.MethodHead {
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != protocol.MediaProblem {
		t.Fatalf("%d with Content-Type %q: %s", resp.StatusCode, ct, body)
	}
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Status != resp.StatusCode || !strings.HasPrefix(p.Type, protocol.ProblemBase) {
		t.Fatalf("%d with problem %s (%v)", resp.StatusCode, body, err)
	}
}

func (s *fuzzServer) revision(t *testing.T, name string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/topics/"+name, nil)
	resp := s.send(t, req)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", name, resp.StatusCode)
	}
	return resp.Header.Get("ETag")
}

var writeMethods = []string{http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete}
var mediaTypes = []string{protocol.MediaJSON, protocol.MediaMergePatch, "application/json; charset=utf-8", "text/plain", ""}

// FuzzWrite sends any write: method, topic and action names, content
// type, body, If-Match and X-Source-Id.
func FuzzWrite(f *testing.F) {
	s := startFuzz(f)
	f.Add(uint8(0), "app-settings", "", uint8(0), []byte(`{"theme":"dark","language":"en","fontSize":16,"notifications":true,"compactMode":false,"reducedMotion":false}`), "", "tab-1")
	f.Add(uint8(1), "app-settings", "", uint8(1), []byte(`{"fontSize":99,"theme":"neon"}`), `"1"`, "")
	f.Add(uint8(1), "app-settings", "", uint8(1), []byte(`{"a":{"b":{"c":null}}}`), `*`, "x")
	f.Add(uint8(1), "cart", "", uint8(1), []byte(`{"items":null,"coupon":"SAVE10"}`), `W/"1", "2"`, "")
	f.Add(uint8(2), "cart", "add-item", uint8(0), []byte(`{"sku":"MUG","name":"Mug","priceCents":1200,"qty":2}`), "", "s")
	f.Add(uint8(2), "cart", "set-quantity", uint8(0), []byte(`{"sku":"MUG","qty":1e400}`), "", "")
	f.Add(uint8(2), "app-settings", "toggle-theme", uint8(0), []byte(``), "", "")
	f.Add(uint8(3), "user-preferences", "", uint8(4), []byte(nil), `"18446744073709551616"`, strings.Repeat("x", 129))
	f.Add(uint8(0), "no-such-topic", "", uint8(0), []byte(`{}`), "", "")
	f.Add(uint8(0), "../etc", "", uint8(2), []byte("{\"theme\":\"dark\",\"theme\":\"light\"}"), `"01"`, "\x7f")
	f.Add(uint8(1), "app-settings", "", uint8(1), []byte(`[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]`), `""`, "")
	f.Add(uint8(0), "app-settings", "", uint8(0), []byte("{\"language\":\"\xff\xfe\"}"), "", "")
	f.Fuzz(func(t *testing.T, method uint8, name, action string, media uint8, body []byte, ifMatch, sourceID string) {
		m := writeMethods[int(method)%len(writeMethods)]
		path := "/api/topics/" + url.PathEscape(name)
		if m == http.MethodPost {
			path += "/actions/" + url.PathEscape(action)
		}
		known := protocol.ValidTopicName(name) && (name == "app-settings" || name == "cart" || name == "user-preferences")
		var before string
		if known {
			before = s.revision(t, name)
		}
		req, err := http.NewRequest(m, s.base+path, strings.NewReader(string(body)))
		if err != nil {
			return
		}
		if ct := mediaTypes[int(media)%len(mediaTypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		if sourceID != "" {
			req.Header.Set(protocol.HeaderSourceID, sourceID)
		}
		resp, data := s.exchange(t, req)
		if resp == nil {
			return
		}
		if !known {
			return
		}
		after := s.revision(t, name)
		switch {
		case resp.StatusCode == 200 && after == before:
			t.Fatalf("%s %s answered 200 but the revision stayed %s", m, path, before)
		case resp.StatusCode != 200 && after != before:
			t.Fatalf("%s %s answered %d but the revision moved %s -> %s: %s", m, path, resp.StatusCode, before, after, data)
		}
	})
}

// FuzzSnapshot sends reads with any topic name and If-None-Match.
func FuzzSnapshot(f *testing.F) {
	s := startFuzz(f)
	f.Add("app-settings", "")
	f.Add("app-settings", "*")
	f.Add("cart", `W/"1", "2"`)
	f.Add("app-settings", `"18446744073709551615"`)
	f.Add("app-settings", `"`)
	f.Add("user-preferences", `"1",,,`)
	f.Add("a:b.c_d-e", "")
	f.Add("%00", "")
	f.Add(strings.Repeat("a", 129), "")
	f.Fuzz(func(t *testing.T, name, ifNoneMatch string) {
		req, err := http.NewRequest(http.MethodGet, s.base+"/api/topics/"+url.PathEscape(name), nil)
		if err != nil {
			return
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, _ := s.exchange(t, req)
		if resp == nil {
			return
		}
		if resp.StatusCode == http.StatusNotModified && ifNoneMatch == "" {
			t.Fatal("304 without If-None-Match")
		}
	})
}

// FuzzEvents opens streams with any cursor and topic list: each either
// starts (200, text/event-stream, a ready event) or is refused with a
// problem.
func FuzzEvents(f *testing.F) {
	s := startFuzz(f)
	f.Add("", "", "app-settings")
	f.Add("garbage", "", "cart")
	f.Add("abc.123", "def.456", "app-settings,cart")
	f.Add("", "x.18446744073709551616", "")
	f.Add(".", ".", "no-such-topic")
	f.Add("e.01", "", "app-settings,app-settings")
	f.Fuzz(func(t *testing.T, lastEventID, queryID, topics string) {
		q := url.Values{}
		if queryID != "" {
			q.Set(protocol.QueryLastEventID, queryID)
		}
		if topics != "" {
			for _, name := range strings.Split(topics, ",") {
				q.Add(protocol.QueryTopic, name)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/events?"+q.Encode(), nil)
		if err != nil {
			return
		}
		if lastEventID != "" {
			req.Header.Set(protocol.HeaderLastEventID, lastEventID)
		}
		resp := s.send(t, req)
		if resp == nil {
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			data, _ := io.ReadAll(resp.Body)
			checkProblem(t, resp, data)
			return
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, protocol.MediaEventStream) {
			t.Fatalf("stream with Content-Type %q", ct)
		}
		// Read up to the ready event: replay (if any) came first.
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 4096)
		for !strings.Contains(string(buf), "event: "+protocol.EventReady) {
			n, err := resp.Body.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil {
				t.Fatalf("stream ended before ready: %v: %q", err, buf)
			}
		}
	})
}

// FuzzFreshness sends any freshness report. "$REV" in the body stands for
// a revision a write really committed, so that the fuzzer reaches the
// checks past the revision's. A refused report records nothing; an
// accepted one records each of its samples.
func FuzzFreshness(f *testing.F) {
	s := startFuzz(f)
	req, _ := http.NewRequest(http.MethodPut, s.base+"/api/topics/app-settings",
		strings.NewReader(`{"theme":"dark","language":"en","fontSize":16}`))
	req.Header.Set("Content-Type", protocol.MediaJSON)
	resp, err := s.c.Do(req)
	if err != nil {
		f.Fatal(err)
	}
	if resp.StatusCode != 200 {
		f.Fatalf("the first write: %d", resp.StatusCode)
	}
	resp.Body.Close()
	rev := strings.Trim(resp.Header.Get("ETag"), `"`)
	f.Add(uint8(0), []byte(`{"samples":[{"topic":"app-settings","revision":"$REV","appliedAgoMs":12.5}]}`))
	f.Add(uint8(0), []byte(`{"samples":[{"topic":"cart","revision":"$REV","appliedAgoMs":0},{"topic":"user-preferences","revision":"$REV","appliedAgoMs":3600000}]}`))
	f.Add(uint8(2), []byte(`{"samples":[{"topic":"app-settings","revision":"$REV","appliedAgoMs":1e308}]}`))
	f.Add(uint8(0), []byte(`{"samples":[{"topic":"app-settings","revision":"18446744073709551615","appliedAgoMs":-0}]}`))
	f.Add(uint8(0), []byte(`{"samples":[{"topic":"no-such","revision":"1","appliedAgoMs":null}],"x":1}`))
	f.Add(uint8(1), []byte(`{"samples":[]}`))
	f.Add(uint8(0), []byte(`{"samples":[{"topic":"app-settings","topic":"cart","revision":"$REV","appliedAgoMs":1}]}`))
	f.Add(uint8(0), []byte("{\"samples\":[{\"topic\":\"app-settings\xff\",\"revision\":\"$REV\",\"appliedAgoMs\":1}]}"))
	f.Fuzz(func(t *testing.T, media uint8, body []byte) {
		req, err := http.NewRequest(http.MethodPost, s.base+"/api/freshness", strings.NewReader(strings.ReplaceAll(string(body), "$REV", rev)))
		if err != nil {
			return
		}
		if ct := mediaTypes[int(media)%len(mediaTypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		before := s.fresh.count()
		resp, data := s.exchange(t, req)
		if resp == nil {
			return
		}
		added := s.fresh.count() - before
		switch {
		case resp.StatusCode == http.StatusNoContent && (added < 1 || added > 20):
			t.Fatalf("accepted report recorded %d samples", added)
		case resp.StatusCode != http.StatusNoContent && added != 0:
			t.Fatalf("refused report (%d) recorded %d samples: %s", resp.StatusCode, added, data)
		}
	})
}
