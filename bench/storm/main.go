// Command storm drops many event streams at once and measures how fast
// they all resume and whether any invalidation was missed: N streams
// (each its own principal) open on a shared topic and wait for ready;
// then every connection is cut at the same instant while a writer keeps
// writing; each stream reconnects after the retry delay the server gave
// it (as EventSource does) with its Last-Event-ID. A stream has resumed
// when its new connection says ready; it missed nothing when, after the
// writes stop, it has seen the last revision written.
//
//	pinion -addr 127.0.0.1:18080 -data /tmp/storm &
//	go run ./bench/storm -url http://127.0.0.1:18080 -streams 10000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinionkit/pinion/bench/opsload"
)

// Config is one storm.
type Config struct {
	Base       string
	Streams    int
	WriteRate  float64       // writes per second during the storm
	HonorRetry bool          // wait the server's retry delay before reconnecting, as a browser does
	Timeout    time.Duration // give up waiting for streams after this
}

// Result is what a storm measured.
type Result struct {
	Streams       int
	Opened        time.Duration   // to open all streams (ready on each)
	Resume        []time.Duration // per stream, from the drop to ready on its new connection, sorted
	Missed        int             // streams that never saw the last revision written
	Writes        int
	LastRevision  uint64
	OpenErrors    int64 // refused or failed connections, retried
	FirstOpenFail error
}

// Percentile of the sorted resume times.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Resume) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(r.Resume)-1))
	return r.Resume[i]
}

const topicName = "app-settings"

type streamState struct {
	lastID  string
	retry   time.Duration
	seen    atomic.Uint64 // highest revision seen
	resumed time.Duration
}

// Storm runs one storm.
func Storm(ctx context.Context, cfg Config) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: -1, // a dropped stream's connection is gone, not reused
		DisableKeepAlives:   true,
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr} // no cookie jar: every stream is its own principal
	states := make([]*streamState, cfg.Streams)
	var res Result
	res.Streams = cfg.Streams
	var openErrs atomic.Int64
	var firstFail atomic.Value

	// open runs one connection of stream i until ctx ends; ready is
	// called when it said ready. It retries a refused connection.
	open := func(ctx context.Context, st *streamState, ready func()) {
		for ctx.Err() == nil {
			said := false
			last, err := opsload.Stream(ctx, c, cfg.Base, []string{topicName}, st.lastID, func(ev opsload.Event) {
				switch ev.Name {
				case "ready":
					if ev.Retry != "" {
						if ms, err := strconv.Atoi(ev.Retry); err == nil {
							st.retry = time.Duration(ms) * time.Millisecond
						}
					}
					if !said {
						said = true
						ready()
					}
				case "invalidation":
					if rev := opsload.RevisionOf(ev.Data); rev > st.seen.Load() {
						st.seen.Store(rev)
					}
				}
			})
			st.lastID = last
			if ctx.Err() != nil {
				return
			}
			openErrs.Add(1)
			if err != nil {
				firstFail.CompareAndSwap(nil, err)
			}
			time.Sleep(time.Second) // EventSource's back-off after an error
		}
	}

	// 1. Open every stream and wait for each to be ready.
	start := time.Now()
	var readyWG, doneWG sync.WaitGroup
	conns := make([]context.CancelFunc, cfg.Streams)
	for i := range states {
		st := &streamState{}
		states[i] = st
		cctx, ccancel := context.WithCancel(ctx)
		conns[i] = ccancel
		readyWG.Add(1)
		doneWG.Add(1)
		go func() {
			defer doneWG.Done()
			once := sync.OnceFunc(readyWG.Done)
			open(cctx, st, once)
		}()
		if i%200 == 199 {
			time.Sleep(20 * time.Millisecond) // open at a pace the backlog takes; the storm is the drop
		}
	}
	if !waitGroup(ctx, &readyWG) {
		return res, errors.New("not every stream opened before the timeout")
	}
	res.Opened = time.Since(start)

	// 2. A writer keeps writing through the storm.
	wctx, stopWrites := context.WithCancel(ctx)
	var lastRev atomic.Uint64
	var writes atomic.Int64
	writerDone := make(chan error, 1)
	go func() {
		wc := opsload.Client()
		defer wc.CloseIdleConnections()
		tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.WriteRate))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-wctx.Done():
				writerDone <- nil
				return
			case <-tick.C:
			}
			rev, err := opsload.Write(ctx, wc, "PATCH", cfg.Base+"/api/topics/"+topicName, "application/merge-patch+json",
				`{"fontSize":`+strconv.Itoa(10+i%23)+`}`, "storm")
			if err != nil {
				writerDone <- err
				return
			}
			n, _ := strconv.ParseUint(rev, 10, 64)
			lastRev.Store(n)
			writes.Add(1)
		}
	}()
	time.Sleep(500 * time.Millisecond) // some writes before the drop

	// 3. Drop every connection at once; each stream comes back after its
	// retry delay with its Last-Event-ID.
	for _, cancel := range conns {
		cancel()
	}
	doneWG.Wait()
	drop := time.Now()
	var resumedWG sync.WaitGroup
	var finalWG sync.WaitGroup
	for _, st := range states {
		resumedWG.Add(1)
		finalWG.Add(1)
		go func() {
			defer finalWG.Done()
			if cfg.HonorRetry && st.retry > 0 {
				time.Sleep(st.retry)
			}
			once := sync.OnceFunc(func() {
				st.resumed = time.Since(drop)
				resumedWG.Done()
			})
			open(ctx, st, once)
		}()
	}
	allResumed := waitGroup(ctx, &resumedWG)
	time.Sleep(500 * time.Millisecond) // writes continue a little after
	stopWrites()
	if err := <-writerDone; err != nil {
		cancel()
		finalWG.Wait()
		return res, fmt.Errorf("writer: %w", err)
	}
	res.Writes, res.LastRevision = int(writes.Load()), lastRev.Load()

	// 4. Every stream must reach the last revision written.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		missing := 0
		for _, st := range states {
			if st.seen.Load() < res.LastRevision {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, st := range states {
		if st.seen.Load() < res.LastRevision {
			res.Missed++
		}
	}
	cancel()
	finalWG.Wait()
	for _, st := range states {
		if st.resumed > 0 {
			res.Resume = append(res.Resume, st.resumed)
		}
	}
	slices.Sort(res.Resume)
	res.OpenErrors = openErrs.Load()
	if e, ok := firstFail.Load().(error); ok {
		res.FirstOpenFail = e
	}
	if !allResumed {
		return res, fmt.Errorf("%d of %d streams resumed before the timeout", len(res.Resume), cfg.Streams)
	}
	return res, nil
}

func waitGroup(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "storm:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("storm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.Base, "url", "http://127.0.0.1:8080", "Pinion's public base URL")
	fs.IntVar(&cfg.Streams, "streams", 10000, "streams to open and drop at once")
	fs.Float64Var(&cfg.WriteRate, "rate", 20, "writes per second during the storm")
	fs.BoolVar(&cfg.HonorRetry, "honor-retry", true, "wait the retry delay the server sent before reconnecting, as EventSource does")
	fs.DurationVar(&cfg.Timeout, "timeout", 3*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Streams <= 0 || cfg.WriteRate <= 0 {
		return errors.New("-streams and -rate must be positive")
	}
	res, err := Storm(ctx, cfg)
	fmt.Fprintf(stdout, "streams=%d opened_in=%v writes=%d resumed=%d resume_p50=%v p99=%v max=%v within_10s=%d missed=%d open_errors=%d first_open_error=%v\n",
		res.Streams, res.Opened.Round(time.Millisecond), res.Writes, len(res.Resume),
		res.Percentile(50).Round(time.Millisecond), res.Percentile(99).Round(time.Millisecond), res.Percentile(100).Round(time.Millisecond),
		within(res.Resume, 10*time.Second), res.Missed, res.OpenErrors, res.FirstOpenFail)
	return err
}

func within(sorted []time.Duration, d time.Duration) int {
	n, _ := slices.BinarySearch(sorted, d+1)
	return n
}
