// Command soak runs steady writes and churning event streams against a
// running Pinion and samples its RSS, goroutines, heap and open files from
// the admin listener, to show they stay flat. It writes one CSV row per
// sample; bench/plot draws them.
//
//	pinion -addr 127.0.0.1:18080 -admin-addr 127.0.0.1:19090 -data /tmp/soak &
//	go run ./bench/soak -url http://127.0.0.1:18080 -admin http://127.0.0.1:19090 -duration 1h -out soak.csv
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinionkit/pinion/bench/opsload"
)

// Config is one soak run.
type Config struct {
	Base, Admin string
	Duration    time.Duration
	Sample      time.Duration // between samples
	WriteRate   float64       // writes per second
	Streams     int           // streams open at any time
	StreamLife  time.Duration // mean life of a stream before it reconnects
	// MinWrites and MinReconnects extend the run past Duration until
	// that much load was applied (for tests on a loaded machine).
	MinWrites, MinReconnects int64
}

// Sample is one reading of the server's resources.
type Sample struct {
	Elapsed    time.Duration
	RSS        float64 // bytes
	Goroutines float64
	HeapInuse  float64 // bytes
	OpenFDs    float64
	Streams    float64
	Writes     int64 // acknowledged so far
	Events     int64 // invalidations received so far
}

// Result sums up a run.
type Result struct {
	Samples             []Sample
	Writes, WriteErrors int64
	Events, Reconnects  int64
	StreamErrors        int64
	Werr                error // the first write or stream error
}

var header = []string{"elapsed_s", "rss_bytes", "goroutines", "heap_inuse_bytes", "open_fds", "streams_open", "writes", "events"}

func (s Sample) row() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return []string{f(s.Elapsed.Seconds()), f(s.RSS), f(s.Goroutines), f(s.HeapInuse), f(s.OpenFDs), f(s.Streams),
		strconv.FormatInt(s.Writes, 10), strconv.FormatInt(s.Events, 10)}
}

// Soak runs cfg until its duration passes or ctx ends, calling each for
// every sample.
func Soak(ctx context.Context, cfg Config, each func(Sample)) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		writes, writeErrs, events, reconnects, streamErrs atomic.Int64
		firstErr                                          atomic.Value
		res                                               Result
		wg                                                sync.WaitGroup
	)
	start := time.Now()
	go func() {
		sleep(ctx, cfg.Duration)
		for ctx.Err() == nil && (writes.Load() < cfg.MinWrites || reconnects.Load() < cfg.MinReconnects) {
			sleep(ctx, 50*time.Millisecond)
		}
		cancel()
	}()

	// Writers: a steady rate of merge patches on a shared topic.
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := opsload.Client()
		defer c.CloseIdleConnections()
		tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.WriteRate))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			body := `{"fontSize":` + strconv.Itoa(10+i%23) + `}`
			_, err := opsload.Write(ctx, c, "PATCH", cfg.Base+"/api/topics/app-settings", "application/merge-patch+json", body, "soak")
			switch {
			case err == nil:
				writes.Add(1)
			case ctx.Err() == nil:
				writeErrs.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		}
	}()

	// Streams: each lives a random time around StreamLife, then
	// reconnects with its Last-Event-ID, as a tab that navigates would.
	for i := 0; i < cfg.Streams; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := opsload.Client()
			defer c.CloseIdleConnections()
			last := ""
			for ctx.Err() == nil {
				life := time.Duration(float64(cfg.StreamLife) * (0.5 + rand.Float64()))
				sctx, scancel := context.WithTimeout(ctx, life)
				var err error
				last, err = opsload.Stream(sctx, c, cfg.Base, []string{"app-settings", "cart"}, last, func(ev opsload.Event) {
					if ev.Name == "invalidation" {
						events.Add(1)
					}
				})
				scancel()
				if err != nil && ctx.Err() == nil {
					streamErrs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					sleep(ctx, time.Second) // as EventSource's retry
				}
				reconnects.Add(1)
			}
		}()
	}

	// Sampler.
	sc := opsload.Client()
	sample := func() error {
		m, err := opsload.Scrape(context.Background(), sc, cfg.Admin)
		if err != nil {
			return err
		}
		s := Sample{Elapsed: time.Since(start), RSS: m["process_resident_memory_bytes"], Goroutines: m["go_goroutines"],
			HeapInuse: m["go_memstats_heap_inuse_bytes"], OpenFDs: m["process_open_fds"], Streams: m["pinion_streams_open"],
			Writes: writes.Load(), Events: events.Load()}
		res.Samples = append(res.Samples, s)
		if each != nil {
			each(s)
		}
		return nil
	}
	var sampleErr error
	tick := time.NewTicker(cfg.Sample)
loop:
	for {
		if err := sample(); err != nil {
			sampleErr = err
			cancel()
			break
		}
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
	}
	tick.Stop()
	wg.Wait()
	res.Writes, res.WriteErrors = writes.Load(), writeErrs.Load()
	res.Events, res.Reconnects, res.StreamErrors = events.Load(), reconnects.Load(), streamErrs.Load()
	if e, ok := firstErr.Load().(error); ok {
		res.Werr = e
	}
	return res, sampleErr
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	var out string
	fs.StringVar(&cfg.Base, "url", "http://127.0.0.1:8080", "Pinion's public base URL")
	fs.StringVar(&cfg.Admin, "admin", "http://127.0.0.1:9090", "Pinion's admin base URL (-admin-addr)")
	fs.DurationVar(&cfg.Duration, "duration", time.Hour, "how long to run")
	fs.DurationVar(&cfg.Sample, "sample", 10*time.Second, "time between samples")
	fs.Float64Var(&cfg.WriteRate, "rate", 50, "writes per second")
	fs.IntVar(&cfg.Streams, "streams", 500, "event streams open at any time")
	fs.DurationVar(&cfg.StreamLife, "life", 10*time.Second, "mean life of a stream before it reconnects")
	fs.StringVar(&out, "out", "soak.csv", "CSV file of samples")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.WriteRate <= 0 || cfg.Streams < 0 || cfg.Sample <= 0 || cfg.StreamLife <= 0 {
		return errors.New("rate, sample and life must be positive, streams not negative")
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	_ = w.Write(header)
	res, err := Soak(ctx, cfg, func(s Sample) {
		_ = w.Write(s.row())
		w.Flush()
		fmt.Fprintf(stdout, "%7.0fs rss=%.1fMB goroutines=%.0f heap=%.1fMB fds=%.0f streams=%.0f writes=%d events=%d\n",
			s.Elapsed.Seconds(), s.RSS/1e6, s.Goroutines, s.HeapInuse/1e6, s.OpenFDs, s.Streams, s.Writes, s.Events)
	})
	w.Flush()
	fmt.Fprintf(stdout, "writes=%d write_errors=%d events=%d reconnects=%d stream_errors=%d first_error=%v\n",
		res.Writes, res.WriteErrors, res.Events, res.Reconnects, res.StreamErrors, res.Werr)
	if err != nil {
		return err
	}
	return w.Error()
}
