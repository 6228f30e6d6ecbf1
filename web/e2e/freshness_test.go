package e2e_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pinionkit/pinion/metrics"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/web"
)

// withMeta returns the built app with a <meta> added to index.html's head,
// as an operator configures the page.
func withMeta(t *testing.T, dist fs.FS, meta string) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(dist, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(dist, name)
		if err != nil {
			return err
		}
		if name == "index.html" {
			if !strings.Contains(string(data), "<head>") {
				t.Fatal("index.html has no <head>")
			}
			data = []byte(strings.Replace(string(data), "<head>", "<head>"+meta, 1))
		}
		out[name] = &fstest.MapFile{Data: data, Mode: 0o444, ModTime: time.Now()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFreshnessFromTheBrowser: with reports on in the page (sample rate 1)
// and on the server, a tab that applies another tab's write reports it by
// sendBeacon, and the freshness histogram on the admin listener counts
// exactly that apply (not the writer's own, not the first loads), with a
// value between 0 and the time since the click.
func TestFreshnessFromTheBrowser(t *testing.T) {
	m := metrics.New()
	admin, err := metrics.Listen("127.0.0.1:0", m.Handler(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- admin.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("admin: %v", err)
		}
	})
	a := startAppWith(t, func(cfg *server.Config) {
		cfg.Assets = withMeta(t, web.Dist(), `<meta name="pinion-freshness" content="1">`)
		cfg.Freshness = server.Freshness{Recorder: m}
	})
	histogram := func(suffix string) float64 {
		t.Helper()
		resp, err := http.Get("http://" + admin.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		match := regexp.MustCompile(`(?m)^pinion_client_freshness_seconds` + regexp.QuoteMeta(suffix) + ` (\S+)$`).FindStringSubmatch(string(body))
		if match == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(match[1], 64)
		return v
	}

	b := newBrowser(t, a)
	p := b.principal("alice")
	// Count the reports each page hands to sendBeacon and the browser
	// accepts (not the fetch fallback), leaving sendBeacon working.
	p.initScript = `(() => {
		window.__beacons = 0
		const send = navigator.sendBeacon.bind(navigator)
		navigator.sendBeacon = (url, data) => {
			const queued = send(url, data)
			if (queued && String(url).endsWith("/api/freshness")) window.__beacons++
			return queued
		}
	})()`
	pa := p.open("A")
	pb := p.open("B")
	const count = `_count{topic="app-settings"}`
	if n := histogram(count); n != 0 {
		t.Fatalf("count %v before any write", n)
	}

	pb.watch(rootFontSize(23))
	pb.fill("settings-fontSize", "23")
	clicked := time.Now()
	pb.click("settings-save")
	pb.seenAt("B's own font size")
	rev := pb.revision("app-settings")
	pa.waitRevision("app-settings", rev)

	// A sends its batch within its flush period (10 s); the wait only
	// guards against a hang.
	poll(t, "the freshness histogram counts A's apply", func() (bool, string) {
		n := histogram(count)
		return n >= 1, "count " + strconv.FormatFloat(n, 'f', -1, 64)
	})
	elapsed := time.Since(clicked).Seconds()
	if n := histogram(count); n != 1 {
		t.Fatalf("count %v, want 1: only A applied a revision an invalidation announced", n)
	}
	sum := histogram(`_sum{topic="app-settings"}`)
	if sum < 0 || sum > elapsed {
		t.Fatalf("freshness %v s, want between 0 and the %v s since the click", sum, elapsed)
	}
	if n := eval[int](pa, `window.__beacons`); n != 1 {
		t.Errorf("A sent %d beacons, want 1 (by sendBeacon)", n)
	}
	if n := eval[int](pb, `window.__beacons`); n != 0 {
		t.Errorf("B, the writer, sent %d beacons, want 0", n)
	}
	t.Logf("freshness of page A, as the server measured it: %.1f ms", sum*1000)
}
