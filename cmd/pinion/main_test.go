package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lineWriter collects the server's log lines and reports the listen
// address once it is logged.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
}

func newLineWriter() *lineWriter { return &lineWriter{addr: make(chan string, 1)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for _, line := range strings.Split(string(p), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "pinion listening" {
			select {
			case w.addr <- rec.Addr:
			default:
			}
		}
	}
	return len(p), nil
}

// instance is one run() of the command.
type instance struct {
	base   string
	cancel context.CancelFunc
	done   chan error
}

func launch(t *testing.T, dataDir string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newLineWriter()
	done := make(chan error, 1)
	args := []string{"-addr", "127.0.0.1:0", "-data", dataDir, "-heartbeat", "1s"}
	go func() { done <- run(ctx, args, func(string) string { return "" }, out, io.Discard) }()
	var addr string
	select {
	case addr = <-out.addr:
	case err := <-done:
		cancel()
		t.Fatalf("run ended early: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start")
	}
	in := &instance{base: "http://" + addr, cancel: cancel, done: done}
	waitHealthy(t, in.base)
	return in
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became ready", base)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (in *instance) stop(t *testing.T) {
	t.Helper()
	in.cancel()
	select {
	case err := <-in.done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

type snapshot struct {
	Revision string          `json:"revision"`
	Data     json.RawMessage `json:"data"`
}

func request(t *testing.T, c *http.Client, method, url, body string) snapshot {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func revNum(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

const settings = `{"theme":"dark","language":"de","fontSize":20,"notifications":true,"compactMode":false,"reducedMotion":true}`

func TestRestartKeepsDataAndRevisions(t *testing.T) {
	dir := t.TempDir()
	c := client()
	first := launch(t, dir)
	wrote := request(t, c, "PUT", first.base+"/api/topics/app-settings", settings)
	prefs := request(t, c, "PUT", first.base+"/api/topics/user-preferences", `{"displayName":"Ann","accentColor":"#123456","sidebar":"collapsed","favorites":[]}`)
	first.stop(t)

	second := launch(t, dir)
	defer second.stop(t)
	got := request(t, c, "GET", second.base+"/api/topics/app-settings", "")
	if got.Revision != wrote.Revision || string(got.Data) != string(wrote.Data) {
		t.Fatalf("after restart %+v, before %+v", got, wrote)
	}
	// The cookie still names the same principal, whose document survived.
	if p := request(t, c, "GET", second.base+"/api/topics/user-preferences", ""); p.Revision != prefs.Revision {
		t.Fatalf("per-principal document lost: %+v vs %+v", p, prefs)
	}
	next := request(t, c, "DELETE", second.base+"/api/topics/app-settings", "")
	if revNum(t, next.Revision) <= revNum(t, wrote.Revision) {
		t.Fatalf("revision went back: %s after %s", next.Revision, wrote.Revision)
	}
}

func TestShutdownEndsStreams(t *testing.T) {
	in := launch(t, t.TempDir())
	resp, err := http.Get(in.base + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "event: ready") {
			break
		}
	}
	in.stop(t) // must return although a stream is open
	// The stream is ended cleanly (terminated chunked body), not cut.
	if _, err := io.Copy(io.Discard, rd); err != nil {
		t.Fatalf("stream ended with %v, want a clean end", err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-log-level", "loud"}, {"-addr", "256.0.0.1:99999", "-data", t.TempDir()}} {
		err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

// TestKill9KeepsAcknowledgedWrites runs the real command in a child
// process, SIGKILLs it right after a write was acknowledged, and checks
// that a new process serves that write.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	if os.Getenv("PINION_CHILD_DATA") != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	c := client()
	var acked []snapshot
	for round := 0; round < 2; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=TestChildProcess")
		cmd.Env = append(os.Environ(), "PINION_CHILD_DATA="+dir)
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out := newLineWriter()
		go io.Copy(out, stdout)
		var addr string
		select {
		case addr = <-out.addr:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("child did not start")
		}
		base := "http://" + addr
		waitHealthy(t, base)
		if len(acked) > 0 {
			last := acked[len(acked)-1]
			got := request(t, c, "GET", base+"/api/topics/app-settings", "")
			if got.Revision != last.Revision || string(got.Data) != string(last.Data) {
				t.Fatalf("after kill -9: %+v, acknowledged %+v", got, last)
			}
		}
		for i := 0; i < 20; i++ {
			body := fmt.Sprintf(`{"theme":"light","language":"en","fontSize":%d,"notifications":true,"compactMode":false,"reducedMotion":false}`, 10+i)
			acked = append(acked, request(t, c, "PUT", base+"/api/topics/app-settings", body))
		}
		// No graceful anything: the process dies right after the answer.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
	}
}

// TestChildProcess is the server process of TestKill9KeepsAcknowledgedWrites.
func TestChildProcess(t *testing.T) {
	dir := os.Getenv("PINION_CHILD_DATA")
	if dir == "" {
		t.Skip("only runs as a child process")
	}
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", dir}, func(string) string { return "" }, os.Stdout, os.Stderr)
	t.Fatalf("run returned: %v", err)
}

func TestOpenAPICommandWritesTheCommittedDocument(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"openapi"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), committed) {
		t.Fatal("openapi.yaml is stale: run `make openapi`")
	}
}

// A value that does not parse is refused with what to write instead; it
// never quietly means "off".
func TestParseRefusesMisspeltValues(t *testing.T) {
	for _, c := range []struct{ env, value, want string }{
		{"PINION_SECURE_COOKIES", "yes", "write PINION_SECURE_COOKIES=true or PINION_SECURE_COOKIES=false"},
		{"PINION_MAX_JSON_DEPTH", "deep", "write for example PINION_MAX_JSON_DEPTH=32"},
		{"PINION_MAX_JSON_MEMBERS", "-1", "PINION_MAX_JSON_MEMBERS"},
	} {
		getenv := func(name string) string {
			if name == c.env {
				return c.value
			}
			return ""
		}
		_, err := parse(nil, getenv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: err %v, want one saying %q", c.env, c.value, err, c.want)
		}
	}
	o, err := parse(nil, func(name string) string {
		if name == "PINION_SECURE_COOKIES" {
			return "1"
		}
		return ""
	}, io.Discard)
	if err != nil || !o.secure {
		t.Errorf("PINION_SECURE_COOKIES=1: secure=%v err=%v, want on", o.secure, err)
	}
}

// Configurations that cannot work are refused at start, saying what to
// write instead.
func TestRunRefusesUnworkableConfigurations(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", ""}, "write -data ./data"},
		{[]string{"-addr", "0.0.0.0:0", "-data", dir}, "-force-dev-auth"},
		{[]string{"-addr", "127.0.0.1:0", "-data", dir, "-cors-origins", "*"}, "list the origins"},
		{[]string{"-addr", "127.0.0.1:0", "-data", dir, "-cors-origins", "http://localhost:5173/"}, `write "http://localhost:5173"`},
		{[]string{"-addr", "127.0.0.1:0", "-data", dir, "-trusted-proxies", "10.0.0.0/99"}, "CIDR"},
	} {
		err := run(context.Background(), c.args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
}
