package server_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/server/servertest"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/topic"
)

// recorder keeps what the freshness route records.
type recorder struct {
	mu   sync.Mutex
	seen map[string][]time.Duration
}

func (r *recorder) ClientFreshness(topic string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[topic] = append(r.seen[topic], d)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ds := range r.seen {
		n += len(ds)
	}
	return n
}

// A report naming a topic the caller may not read is refused whole, with
// a 403 problem, and records nothing; cross-site reports are refused like
// cross-site writes.
func TestFreshnessRefusesUnreadableTopics(t *testing.T) {
	topics, err := topic.NewSet(demo.Topics())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{seen: map[string][]time.Duration{}}
	srv, err := server.New(server.Config{
		Addr:      "127.0.0.1:0",
		Freshness: server.Freshness{Recorder: rec},
		Security: server.Security{Policies: auth.Policies{
			"cart": {Read: func(auth.Identity) bool { return false }},
		}},
	}, memory.Open(), topics, auth.Cookie{Key: auth.NewKey()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := servertest.Run(t, srv)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	send := func(body string, headers ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/freshness", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	req, _ := http.NewRequest("PUT", base+"/api/topics/app-settings", strings.NewReader(`{"theme":"dark","language":"en","fontSize":16}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rev := strings.Trim(resp.Header.Get("ETag"), `"`)
	sample := func(name string) string {
		return `{"topic":"` + name + `","revision":"` + rev + `","appliedAgoMs":3}`
	}

	code, body := send(`{"samples":[` + sample("app-settings") + `,` + sample("cart") + `]}`)
	if code != http.StatusForbidden || !strings.Contains(body, `"status":403`) || !strings.Contains(body, "cart") {
		t.Fatalf("report with an unreadable topic: %d %s", code, body)
	}
	if n := rec.count(); n != 0 {
		t.Fatalf("a refused report recorded %d samples", n)
	}
	if code, body := send(`{"samples":[`+sample("app-settings")+`]}`, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Fatalf("cross-site report: %d %s", code, body)
	}
	if code, body := send(`{"samples":[` + sample("app-settings") + `,` + sample("user-preferences") + `]}`); code != http.StatusNoContent {
		t.Fatalf("readable report: %d %s", code, body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen["app-settings"]) != 1 || len(rec.seen["user-preferences"]) != 1 || len(rec.seen["cart"]) != 0 {
		t.Fatalf("recorded %v", rec.seen)
	}
}
