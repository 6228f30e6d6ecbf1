package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config is one harness run.
type Config struct {
	Bin            string // the pinion binary
	Data           string // data directory; empty: a temporary one
	Cycles         int
	Writers        int
	MinRun, MaxRun time.Duration // the writers run this long before the kill
	Seed           int64
}

// Result counts what a run did.
type Result struct {
	Cycles   int
	Acked    int // writes acknowledged with 200, all verified after a restart
	Unacked  int // writes cut by the kill (no answer): either outcome is allowed
	Ahead    int // documents found at a later write than their last acknowledgement
	Elapsed  time.Duration
	Failures []string
}

func (r Result) String() string {
	s := fmt.Sprintf("%d kill -9 cycles in %v: %d acknowledged writes all present, %d cut by the kill (%d of them committed), no revision went down",
		r.Cycles, r.Elapsed.Round(time.Millisecond), r.Acked, r.Unacked, r.Ahead)
	if len(r.Failures) > 0 {
		s = fmt.Sprintf("%d kill -9 cycles in %v: %d FAILURES:\n  %s", r.Cycles, r.Elapsed.Round(time.Millisecond),
			len(r.Failures), strings.Join(r.Failures, "\n  "))
	}
	return s
}

// writer is one browser writing its own document.
type writer struct {
	id     int
	client *http.Client
	// last acknowledged write: its number and revision; seq is the number
	// of the last write sent (acknowledged or not).
	ackSeq, seq int
	ackRev      uint64
	// seen is the highest revision of the document verified so far.
	seen uint64
	// ahead counts restarts that found a write committed whose answer the
	// kill cut off.
	ahead int
}

// Run runs the harness; it returns an error when a check failed or the
// harness itself could not proceed.
func Run(ctx context.Context, cfg Config, log io.Writer) (Result, error) {
	start := time.Now()
	var res Result
	if cfg.Data == "" {
		dir, err := os.MkdirTemp("", "pinion-crash-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		cfg.Data = dir
	}
	if cfg.MaxRun < cfg.MinRun {
		cfg.MaxRun = cfg.MinRun
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0))
	writers := make([]*writer, cfg.Writers)
	for i := range writers {
		jar, _ := cookiejar.New(nil)
		writers[i] = &writer{id: i, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	}
	fail := func(format string, args ...any) {
		res.Failures = append(res.Failures, fmt.Sprintf(format, args...))
	}
	var cursor uint64 // the store's head, as the last cycle saw it
	for cycle := 1; cycle <= cfg.Cycles; cycle++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		srv, err := startServer(ctx, cfg)
		if err != nil {
			return res, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		// Verify what the previous cycle left, before anything is written.
		// (In the first cycle, this gives each writer its session.)
		for _, w := range writers {
			if msg := w.verify(ctx, srv.base); msg != "" {
				fail("cycle %d: writer %d: %s", cycle, w.id, msg)
			}
		}
		if head, err := headCursor(ctx, srv.base, writers[0].client); err != nil {
			srv.kill()
			return res, fmt.Errorf("cycle %d: %w", cycle, err)
		} else if head < cursor {
			fail("cycle %d: the store's head went down from %d to %d", cycle, cursor, head)
		} else {
			cursor = head
		}

		// Write until the kill.
		// The kill comes a random time after the first acknowledgement of
		// the cycle, so that every cycle has something to lose however
		// slow the machine is.
		runFor := cfg.MinRun + time.Duration(rng.Int64N(int64(cfg.MaxRun-cfg.MinRun)+1))
		var wg sync.WaitGroup
		var mu sync.Mutex
		first := make(chan struct{})
		var once sync.Once
		for _, w := range writers {
			wg.Go(func() {
				acked, cut := w.writeUntilError(ctx, srv.base, func() { once.Do(func() { close(first) }) })
				mu.Lock()
				res.Acked += acked
				res.Unacked += cut
				mu.Unlock()
			})
		}
		select {
		case <-first:
		case <-time.After(60 * time.Second):
			fail("cycle %d: no write acknowledged in 60s", cycle)
		case <-ctx.Done():
		}
		select {
		case <-time.After(runFor):
		case <-ctx.Done():
		}
		srv.kill() // SIGKILL: no drain, no close, no checkpoint
		wg.Wait()
		res.Cycles = cycle
		if len(res.Failures) > 0 {
			break
		}
		fmt.Fprintf(log, "cycle %d: killed %v after the first acknowledgement; %d acknowledged so far\n", cycle, runFor.Round(time.Millisecond), res.Acked)
	}
	// The last cycle's writes are checked by one more start.
	if len(res.Failures) == 0 && res.Cycles == cfg.Cycles {
		srv, err := startServer(ctx, cfg)
		if err != nil {
			return res, fmt.Errorf("final start: %w", err)
		}
		for _, w := range writers {
			if msg := w.verify(ctx, srv.base); msg != "" {
				fail("final check: writer %d: %s", w.id, msg)
			}
		}
		srv.stop()
	}
	for _, w := range writers {
		res.Ahead += w.ahead
	}
	res.Elapsed = time.Since(start)
	if len(res.Failures) > 0 {
		return res, errors.New("acknowledged writes were lost or revisions went down")
	}
	return res, nil
}

type prefs struct {
	DisplayName string   `json:"displayName"`
	AccentColor string   `json:"accentColor"`
	Sidebar     string   `json:"sidebar"`
	Favorites   []string `json:"favorites"`
}

// writeUntilError PUTs numbered documents until a request fails (the
// server was killed). It returns how many were acknowledged, and 1 if the
// last one got no answer.
func (w *writer) writeUntilError(ctx context.Context, base string, ackedOne func()) (acked, cut int) {
	for ctx.Err() == nil {
		w.seq++
		body, _ := json.Marshal(prefs{DisplayName: "w" + strconv.Itoa(w.id) + "-" + strconv.Itoa(w.seq),
			AccentColor: "#4f46e5", Sidebar: "expanded", Favorites: []string{}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/api/topics/user-preferences", strings.NewReader(string(body)))
		if err != nil {
			return acked, 1
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := w.client.Do(req)
		if err != nil {
			return acked, 1
		}
		var snap struct {
			Revision string `json:"revision"`
		}
		err = json.NewDecoder(resp.Body).Decode(&snap)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			// Cut mid-answer, or refused: unacknowledged either way.
			return acked, 1
		}
		rev, err := strconv.ParseUint(snap.Revision, 10, 64)
		if err != nil {
			return acked, 1
		}
		w.ackSeq, w.ackRev = w.seq, rev
		acked++
		ackedOne()
	}
	return acked, 0
}

// verify reads the writer's document after a restart and checks it
// against what was acknowledged; it returns what is wrong, or "".
func (w *writer) verify(ctx context.Context, base string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/topics/user-preferences", nil)
	hadSession := len(w.client.Jar.Cookies(req.URL)) > 0
	resp, err := w.client.Do(req)
	if err != nil {
		return "GET: " + err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "GET: status " + resp.Status
	}
	if resp.Header.Get("Set-Cookie") != "" && hadSession {
		return "the server issued a new session: the writer's principal did not survive the restart"
	}
	var snap struct {
		Revision string `json:"revision"`
		Data     prefs  `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return "GET: " + err.Error()
	}
	rev, err := strconv.ParseUint(snap.Revision, 10, 64)
	if err != nil {
		return "GET: revision " + snap.Revision
	}
	seq := 0
	if name, ok := strings.CutPrefix(snap.Data.DisplayName, "w"+strconv.Itoa(w.id)+"-"); ok {
		seq, _ = strconv.Atoi(name)
	}
	defer func() { w.seen = max(w.seen, rev) }()
	switch {
	case rev < w.seen:
		return fmt.Sprintf("revision went down: %d after %d", rev, w.seen)
	case w.ackSeq == 0:
		return ""
	case rev < w.ackRev:
		return fmt.Sprintf("acknowledged write %d at revision %d lost: the document is write %d at %d", w.ackSeq, w.ackRev, seq, rev)
	case rev == w.ackRev && seq != w.ackSeq:
		return fmt.Sprintf("revision %d holds write %d, but write %d was acknowledged at it", rev, seq, w.ackSeq)
	case rev > w.ackRev && (seq <= w.ackSeq || seq > w.seq):
		return fmt.Sprintf("revision %d (after the acknowledged %d) holds write %d; want one of the unacknowledged %d..%d",
			rev, w.ackRev, seq, w.ackSeq+1, w.seq)
	}
	if rev > w.ackRev {
		w.ahead++
	}
	// What the document holds now is the baseline of the next cycle.
	w.ackSeq, w.ackRev = seq, rev
	return ""
}

// headCursor reads the store's head through the event stream's ready
// event, which names the current cursor.
func headCursor(ctx context.Context, base string, c *http.Client) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events?topic=app-settings", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("event stream: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var id string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case line == "event: ready" || line == "event:ready":
			for sc.Scan() && sc.Text() != "" {
				if l := sc.Text(); strings.HasPrefix(l, "id:") {
					id = strings.TrimSpace(strings.TrimPrefix(l, "id:"))
				}
			}
			_, rev, ok := strings.Cut(id, ".")
			if !ok {
				return 0, fmt.Errorf("ready event id %q is not a cursor", id)
			}
			return strconv.ParseUint(rev, 10, 64)
		}
	}
	return 0, fmt.Errorf("event stream ended without a ready event: %v", sc.Err())
}

// server is one running pinion process.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

// startServer starts the binary on a random port and waits until it
// answers /healthz.
func startServer(ctx context.Context, cfg Config) (*server, error) {
	// The write rate limits are off: the writers all come from one
	// address, and the harness wants as many writes in flight at the kill
	// as the server takes.
	cmd := exec.Command(cfg.Bin, "-addr", "127.0.0.1:0", "-data", cfg.Data, "-no-app", "-log-level", "info",
		"-rate-per-principal", "0", "-rate-per-address", "0", "-new-principals-per-address", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "pinion listening" {
				select {
				case addr <- rec.Addr:
				default:
				}
			}
		}
		cmd.Wait()
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case <-s.done:
		return nil, fmt.Errorf("pinion exited at start: %s", stderr.String())
	case <-time.After(60 * time.Second):
		s.kill()
		return nil, errors.New("pinion did not start in 60s")
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
	return s, nil
}

func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.kill()
	}
}
