package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// addrLog reports the public and admin addresses the command logs.
type addrLog struct {
	mu     sync.Mutex
	public chan string
	admin  chan string
}

func (w *addrLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range strings.Split(string(p), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch rec.Msg {
		case "pinion listening":
			w.public <- rec.Addr
		case "admin listening":
			w.admin <- rec.Addr
		}
	}
	return len(p), nil
}

// startAdmin runs the command with args and returns its public and admin
// base URLs.
func startAdmin(t *testing.T, args []string, getenv func(string) string) (public, admin string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &addrLog{public: make(chan string, 1), admin: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv, out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	for public == "" || admin == "" {
		select {
		case public = <-out.public:
		case admin = <-out.admin:
		case err := <-done:
			t.Fatalf("run ended early: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("server did not start")
		}
	}
	public, admin = "http://"+public, "http://"+admin
	waitHealthy(t, public)
	return public, admin
}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// The admin listener serves metrics and pprof, the metrics follow real
// requests, and the public listener serves neither.
func TestAdminListener(t *testing.T) {
	args := []string{"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-data", t.TempDir()}
	public, admin := startAdmin(t, args, func(string) string { return "" })
	c := client()

	// A stream, caught up and ready before the writes.
	sresp, err := c.Get(public + "/api/events?topic=app-settings")
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	lines := bufio.NewReader(sresp.Body)
	readUntil := func(prefix string) {
		t.Helper()
		for {
			line, err := lines.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended before %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
		}
	}
	readUntil("event: ready")

	// Real traffic: a write, a rejected write, a 200 and a 304 read.
	wrote := request(t, c, "PUT", public+"/api/topics/app-settings", settings)
	req, _ := http.NewRequest("PATCH", public+"/api/topics/app-settings", strings.NewReader(`{"fontSize":99}`))
	req.Header.Set("Content-Type", "application/merge-patch+json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid patch: %d", resp.StatusCode)
	}
	if code, _ := get(t, c, public+"/api/topics/app-settings", "If-None-Match", `"`+wrote.Revision+`"`); code != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", code)
	}
	if code, _ := get(t, c, public+"/api/topics/no-such-topic"); code != http.StatusNotFound {
		t.Fatalf("unknown topic: %d", code)
	}

	readUntil("event: invalidation")

	// The counters of a stream are bumped after its write returns, so
	// poll (the bound only guards against a hang).
	wants := []string{
		`pinion_write_duration_seconds_count{operation="replace",status="200",topic="app-settings"} 1`,
		`pinion_write_duration_seconds_count{operation="patch",status="422",topic="app-settings"} 1`,
		`pinion_validation_failures_total{rule="max",topic="app-settings"} 1`,
		`pinion_snapshot_requests_total{status="304",topic="app-settings"} 1`,
		// An unknown name does not become a label of its own.
		`pinion_snapshot_requests_total{status="404",topic="unknown"} 1`,
		`pinion_store_update_duration_seconds_count 1`,
		`pinion_commit_batch_size_count 1`,
		`pinion_commit_duration_seconds_count 1`,
		"pinion_streams_open 1",
		"pinion_events_sent_total 1",
		"pinion_replay_events_count 1",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	}
	var metrics string
	for deadline := time.Now().Add(10 * time.Second); ; {
		code, body := get(t, c, admin+"/metrics")
		if code != 200 {
			t.Fatalf("admin /metrics: %d", code)
		}
		metrics = body
		var missing []string
		for _, want := range wants {
			if !strings.Contains(metrics, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin /metrics lacks %q", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(metrics, "no-such-topic") {
		t.Error("a client-chosen topic name became a label")
	}
	if code, body := get(t, c, admin+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("admin pprof: %d %.100s", code, body)
	}

	// Never on the public listener (the demo app's fallback answers these
	// paths with its index page, which must be all it answers).
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		code, body := get(t, c, public+path)
		if strings.Contains(body, "pinion_") || strings.Contains(body, "goroutine") || strings.Contains(body, "# HELP") || strings.Contains(body, "-admin-addr") {
			t.Errorf("public %s answers %d with operational data: %.200s", path, code, body)
		}
	}
}

func TestAdminOffByDefault(t *testing.T) {
	o, err := parse(nil, func(string) string { return "" }, io.Discard)
	if err != nil || o.adminAddr != "" {
		t.Fatalf("default admin address %q, %v; want off", o.adminAddr, err)
	}
	o, err = parse(nil, func(k string) string {
		if k == "PINION_ADMIN_ADDR" {
			return "127.0.0.1:9090"
		}
		return ""
	}, io.Discard)
	if err != nil || o.adminAddr != "127.0.0.1:9090" {
		t.Fatalf("PINION_ADMIN_ADDR: %q, %v", o.adminAddr, err)
	}
}
