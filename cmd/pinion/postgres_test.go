package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pinionkit/pinion/internal/ssetest"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/postgres/pgtest"
)

// These tests run Pinion instances as separate processes (this test
// binary, re-executed as TestPostgresChild: the command's run with real
// flags) on one PostgreSQL schema, and check what only a shared database
// can break: fan-out between instances, order, resumption on another
// instance, lost LISTEN connections and a database that goes away.

// TestPostgresChild is the server process of the multi-instance tests.
func TestPostgresChild(t *testing.T) {
	dbURL := os.Getenv("PINION_CHILD_DATABASE_URL")
	if dbURL == "" {
		t.Skip("only runs as a child process")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	// No rate limits: these tests write as fast as they can on purpose.
	err := run(ctx, []string{"-addr", "127.0.0.1:0", "-database-url", dbURL, "-heartbeat", "1s", "-no-app",
		"-rate-per-principal", "0", "-rate-per-address", "0", "-new-principals-per-address", "0"},
		func(string) string { return "" }, os.Stdout, os.Stderr)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
}

// proc is one Pinion process.
type proc struct {
	base string
	cmd  *exec.Cmd
	out  *lineWriter
	done chan struct{}
}

// startInstance starts a Pinion process on dbURL, killed at the end of the
// test.
func startInstance(t *testing.T, dbURL string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPostgresChild$")
	cmd.Env = append(os.Environ(), "PINION_CHILD_DATABASE_URL="+dbURL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: newLineWriter(), done: make(chan struct{})}
	go func() {
		io.Copy(p.out, stdout)
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	select {
	case addr := <-p.out.addr:
		p.base = "http://" + addr
	case <-p.done:
		t.Fatalf("instance exited before listening:\n%s", p.logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("instance did not start:\n%s", p.logs())
	}
	waitHealthy(t, p.base)
	return p
}

// kill ends the process with SIGKILL: no graceful anything.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) logs() string {
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	return p.out.buf.String()
}

// invalidation is a received invalidation event.
type invalidation struct {
	id       store.Cursor
	topic    string
	revision store.Revision
}

// eventStream is an open event stream whose invalidations arrive on ch.
type eventStream struct {
	ch     chan invalidation
	ready  chan store.Cursor
	ended  chan error
	cancel context.CancelFunc
}

// openStream opens an event stream on base for topics, resuming after
// lastID when it is not empty. The jar makes it the same browser as the
// writers' clients.
func openStream(t *testing.T, jar http.CookieJar, base string, lastID string, topics ...string) *eventStream {
	t.Helper()
	q := url.Values{"topic": topics}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events?"+q.Encode(), nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := (&http.Client{Jar: jar}).Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream on %s: %v", base, err)
	}
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("open stream on %s: %d %s", base, resp.StatusCode, body)
	}
	s := &eventStream{ch: make(chan invalidation, 100000), ready: make(chan store.Cursor, 1), ended: make(chan error, 1), cancel: cancel}
	t.Cleanup(cancel)
	go func() {
		defer resp.Body.Close()
		err := ssetest.Read(resp.Body, func(ev ssetest.Event) {
			switch ev.Name {
			case "ready":
				c, _ := store.ParseCursor(ev.ID)
				select {
				case s.ready <- c:
				default:
				}
			case "invalidation":
				var d struct{ Topic, Revision string }
				if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
					t.Errorf("invalidation %q: %v", ev.Data, err)
					return
				}
				c, err1 := store.ParseCursor(ev.ID)
				r, err2 := store.ParseRevision(d.Revision)
				if err1 != nil || err2 != nil {
					t.Errorf("invalidation id %q revision %q: %v %v", ev.ID, d.Revision, err1, err2)
					return
				}
				s.ch <- invalidation{id: c, topic: d.Topic, revision: r}
			}
		})
		s.ended <- err
	}()
	select {
	case <-s.ready:
	case err := <-s.ended:
		t.Fatalf("stream on %s ended before ready: %v", base, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("stream on %s: no ready event", base)
	}
	return s
}

// follower checks one stream's invalidations as they arrive: cursors
// strictly increasing, each document's revisions increasing, and records
// the latest revision seen per topic.
type follower struct {
	t      *testing.T
	name   string
	mu     sync.Mutex
	last   store.Cursor
	latest map[string]store.Revision
	count  int
}

func newFollower(t *testing.T, name string) *follower {
	return &follower{t: t, name: name, latest: map[string]store.Revision{}}
}

func (f *follower) take(ev invalidation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last.Epoch != "" && (ev.id.Epoch != f.last.Epoch || ev.id.Revision <= f.last.Revision) {
		f.t.Errorf("%s: cursor %s after %s: out of order", f.name, ev.id, f.last)
	}
	if ev.revision < f.latest[ev.topic] {
		f.t.Errorf("%s: %s revision %d after %d", f.name, ev.topic, ev.revision, f.latest[ev.topic])
	}
	f.last, f.latest[ev.topic] = ev.id, max(f.latest[ev.topic], ev.revision)
	f.count++
}

// waitFor reads s until the follower has seen want[topic] for every topic.
func (f *follower) waitFor(s *eventStream, want map[string]store.Revision) {
	f.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		f.mu.Lock()
		ok := true
		for topic, rev := range want {
			if f.latest[topic] < rev {
				ok = false
			}
		}
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case ev := <-s.ch:
			f.take(ev)
		case err := <-s.ended:
			f.t.Fatalf("%s: stream ended (%v) before revisions %v arrived; have %v", f.name, err, want, f.latest)
		case <-deadline:
			f.t.Fatalf("%s: revisions %v did not arrive; have %v", f.name, want, f.latest)
		}
	}
}

// writer writes through one instance as one browser.
type writer struct {
	t    *testing.T
	c    *http.Client
	base string
}

// put writes a valid document to topic and returns the acknowledged
// revision; status is the answer's status, 0 on a transport error.
func (w writer) put(topic string, i int) (rev store.Revision, status int, body string) {
	var doc string
	switch topic {
	case "app-settings":
		doc = fmt.Sprintf(`{"theme":"dark","language":"en","fontSize":%d,"notifications":true,"compactMode":false,"reducedMotion":false}`, 10+i%20)
	case "user-preferences":
		doc = fmt.Sprintf(`{"displayName":"w%d","accentColor":"#123456","sidebar":"collapsed","favorites":[]}`, i)
	default:
		w.t.Fatalf("put: no document for %s", topic)
	}
	req, _ := http.NewRequest("PUT", w.base+"/api/topics/"+topic, strings.NewReader(doc))
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.c.Do(req)
	if err != nil {
		return 0, 0, err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, resp.StatusCode, resp.Header.Get("Content-Type") + " " + resp.Header.Get("Retry-After") + " " + string(data)
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		w.t.Errorf("put %s: %v", topic, err)
	}
	r, err := store.ParseRevision(s.Revision)
	if err != nil {
		w.t.Errorf("put %s: %v", topic, err)
	}
	return r, 200, ""
}

func (w writer) mustPut(topic string, i int) store.Revision {
	w.t.Helper()
	rev, status, body := w.put(topic, i)
	if status != 200 {
		w.t.Fatalf("PUT %s on %s: %d %s", topic, w.base, status, body)
	}
	return rev
}

var streamTopics = []string{"app-settings", "user-preferences"}

// TestPostgresInstancesFanOut: three processes on one schema. Writes go
// to the first and second; streams on the second and third receive every
// invalidation, in cursor order.
func TestPostgresInstancesFanOut(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	ins := []*proc{startInstance(t, dbURL), startInstance(t, dbURL), startInstance(t, dbURL)}
	c := client()
	w := writer{t: t, c: c, base: ins[0].base}
	w.mustPut("user-preferences", 0) // the jar now holds the principal's cookie

	type watched struct {
		s *eventStream
		f *follower
	}
	var streams []watched
	for _, in := range ins[1:] {
		streams = append(streams, watched{openStream(t, c.Jar, in.base, "", streamTopics...), newFollower(t, in.base)})
	}

	// One write at a time: each one's invalidation reaches both other
	// instances before the next write, so none can be coalesced away.
	for i := range 30 {
		topic := streamTopics[i%2]
		rev := w.mustPut(topic, i)
		for _, s := range streams {
			s.f.waitFor(s.s, map[string]store.Revision{topic: rev})
			// A read prompted by the invalidation, on the instance that
			// sent it, is not older than it: the snapshot cache there
			// learned of the write from the database, not from a local
			// write.
			got := request(t, c, "GET", s.f.name+"/api/topics/"+topic, "")
			if r := store.Revision(revNum(t, got.Revision)); r < rev {
				t.Fatalf("GET %s on %s after its invalidation of %d: revision %d", topic, s.f.name, rev, r)
			}
		}
	}
	// Then a burst from two instances at once: the order holds and the
	// last revision of each document arrives.
	var mu sync.Mutex
	final := map[string]store.Revision{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			w := writer{t: t, c: c, base: ins[g%2].base}
			for i := range 50 {
				topic := streamTopics[(g+i)%2]
				rev, status, body := w.put(topic, i)
				if status != 200 {
					t.Errorf("PUT %s: %d %s", topic, status, body)
					return
				}
				mu.Lock()
				final[topic] = max(final[topic], rev)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, s := range streams {
		s.f.waitFor(s.s, final)
		t.Logf("%s: %d invalidations in cursor order", s.f.name, s.f.count)
	}
}

// TestPostgresKill9Resume: a stream's instance is killed with SIGKILL in
// the middle of a stream of writes; the client reconnects to the other
// instance with Last-Event-ID and misses nothing.
func TestPostgresKill9Resume(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a, b := startInstance(t, dbURL), startInstance(t, dbURL)
	c := client()
	w := writer{t: t, c: c, base: b.base}
	w.mustPut("user-preferences", 0)
	s := openStream(t, c.Jar, a.base, "", streamTopics...)
	f := newFollower(t, "stream on A, then B")

	var mu sync.Mutex
	final := map[string]store.Revision{}
	writes := 0
	stop := make(chan struct{})
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			topic := streamTopics[i%2]
			rev, status, body := w.put(topic, i)
			if status != 200 {
				t.Errorf("PUT %s on B: %d %s", topic, status, body)
				return
			}
			mu.Lock()
			final[topic] = rev
			writes++
			mu.Unlock()
		}
	}()
	acked := func() int {
		mu.Lock()
		defer mu.Unlock()
		return writes
	}
	// Let some invalidations through A, then kill it mid-stream.
	for f.count < 20 {
		select {
		case ev := <-s.ch:
			f.take(ev)
		case <-time.After(60 * time.Second):
			t.Fatal("no invalidations on A")
		}
	}
	a.kill()
	// Drain what A delivered before it died; the stream must end.
	for ended := false; !ended; {
		select {
		case ev := <-s.ch:
			f.take(ev)
		case <-s.ended:
			ended = true
		case <-time.After(60 * time.Second):
			t.Fatal("the stream on a killed instance did not end")
		}
	}
	for len(s.ch) > 0 {
		f.take(<-s.ch)
	}
	// Writes continue while the client is away; then it resumes on B
	// from the last cursor it saw.
	for away, deadline := acked(), time.Now().Add(60*time.Second); acked() < away+10; {
		if time.Now().After(deadline) {
			t.Fatal("the writer on B stopped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s2 := openStream(t, c.Jar, b.base, f.last.String(), streamTopics...)
	close(stop)
	<-writing
	mu.Lock()
	want := maps(final)
	mu.Unlock()
	f.waitFor(s2, want)
	t.Logf("%d invalidations across the kill, last write %v", f.count, want)
}

func maps(m map[string]store.Revision) map[string]store.Revision {
	out := make(map[string]store.Revision, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestPostgresListenTerminated: the LISTEN connection of the streaming
// instance is terminated from the database side, repeatedly, while the
// other instance writes; every document's last revision still arrives, in
// order.
func TestPostgresListenTerminated(t *testing.T) {
	dbURL, schema := pgtest.Schema(t)
	a, b := startInstance(t, dbURL), startInstance(t, dbURL)
	admin := pgtest.Connect(t)
	c := client()
	w := writer{t: t, c: c, base: a.base}
	w.mustPut("user-preferences", 0)
	s := openStream(t, c.Jar, b.base, "", streamTopics...)
	f := newFollower(t, "stream on B")

	final := map[string]store.Revision{}
	terminated := 0
	for i := range 60 {
		if i%15 == 5 {
			// Both instances' LISTEN connections go; writes follow at once,
			// while they reconnect.
			var n int
			if err := admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE application_name = $1`, "pinion listen "+schema).Scan(&n); err != nil {
				t.Fatal(err)
			}
			terminated += n
		}
		topic := streamTopics[i%2]
		final[topic] = w.mustPut(topic, i)
	}
	if terminated < 4 {
		t.Fatalf("terminated %d LISTEN connections, want at least 4 (is application_name set?)", terminated)
	}
	f.waitFor(s, final)
	t.Logf("%d LISTEN connections terminated; %d invalidations, in order", terminated, f.count)
}

// tcpProxy forwards 127.0.0.1:port to PostgreSQL and can be cut and
// restored, standing in for a database restart that this shared machine
// cannot afford.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.up()
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

// up starts accepting (again, on the same address).
func (p *tcpProxy) up() {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = true, true
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			p.wg.Go(func() { pipe(out, in) })
			p.wg.Go(func() { pipe(in, out) })
		}
	})
}

// down refuses new connections and cuts every open one, as a database
// that stops does.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// TestPostgresOutage: the database goes away under load (all connections
// cut, new ones refused) and comes back. While it is away, writes fail with
// a 503 problem and readiness fails; nothing acknowledged is lost; service
// and streams resume by themselves.
func TestPostgresOutage(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	u, _ := url.Parse(dbURL)
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	a, b := startInstance(t, u.String()), startInstance(t, u.String())
	c := client()
	w := writer{t: t, c: c, base: a.base}
	w.mustPut("user-preferences", 0)
	s := openStream(t, c.Jar, b.base, "", streamTopics...)
	f := newFollower(t, "stream on B")

	var (
		mu      sync.Mutex
		acked   = map[string]store.Revision{}
		oks     int
		failed  int
		bad     []string
		stopped = make(chan struct{})
		wg      sync.WaitGroup
	)
	for g := range 4 {
		wg.Go(func() {
			w := writer{t: t, c: c, base: []*proc{a, b}[g%2].base}
			for i := 0; ; i++ {
				select {
				case <-stopped:
					return
				default:
				}
				topic := streamTopics[(g+i)%2]
				rev, status, body := w.put(topic, i)
				mu.Lock()
				switch {
				case status == 200:
					acked[topic] = max(acked[topic], rev)
					oks++
				case status == 503 && strings.HasPrefix(body, "application/problem+json ") && !strings.HasPrefix(body, "application/problem+json  "):
					failed++ // a problem with a Retry-After (put puts it between the two spaces)
				default:
					bad = append(bad, fmt.Sprintf("%d %s", status, body))
				}
				mu.Unlock()
				if status != 200 {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	proxy.down()
	// Readiness says so while it is down.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(a.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 503 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz did not fail while the database was down")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	failedWhileDown := failed
	mu.Unlock()
	proxy.up()
	waitHealthy(t, a.base)
	waitHealthy(t, b.base)
	// Service resumes: writes succeed again on both instances.
	for _, in := range []*proc{a, b} {
		writer{t: t, c: c, base: in.base}.mustPut("app-settings", 1)
	}
	close(stopped)
	wg.Wait()
	if failedWhileDown == 0 {
		t.Error("no write failed with 503 while the database was down")
	}
	if len(bad) > 0 {
		t.Errorf("%d answers were neither 200 nor a 503 problem with Retry-After, e.g. %q", len(bad), bad[0])
	}
	// Nothing acknowledged was lost: every document reaches at least its
	// last acknowledged revision, on both instances. The instance that did
	// not make a write learns of it through the change feed, a moment
	// later (store/cache's documented lag), so each read is retried for a
	// while; a lost write never shows up.
	for topic, rev := range acked {
		for _, in := range []*proc{a, b} {
			deadline := time.Now().Add(15 * time.Second)
			for {
				got := request(t, c, "GET", in.base+"/api/topics/"+topic, "")
				r := store.Revision(revNum(t, got.Revision))
				if r >= rev {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("%s on %s still at %d after 15 s, but %d was acknowledged", topic, in.base, r, rev)
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	// The stream on B survived or was resumed by the instance itself:
	// the last revisions arrive, in order.
	final := map[string]store.Revision{}
	for _, topic := range streamTopics {
		got := request(t, c, "GET", a.base+"/api/topics/"+topic, "")
		final[topic] = store.Revision(revNum(t, got.Revision))
	}
	f.waitFor(s, final)
	t.Logf("%d writes acknowledged, %d answered 503", oks, failed)
}
