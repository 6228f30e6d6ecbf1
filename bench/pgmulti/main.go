// Command pgmulti measures Pinion instances that share one PostgreSQL
// database, from outside, through HTTP and SSE only:
//
//	latency  commit → invalidation on another instance: PUTs on the first
//	         target, one at a time, and one stream on the second
//	writes   durable writes/s: -writers clients, each its own principal
//	         writing its own document, spread over the targets
//	streams  -streams streams spread over the targets, then -writes PUTs on
//	         the first target; counts streams that missed a write
//
// Start the instances first (see BENCHMARKS.md). It only talks to the
// addresses it is given; keep them on 127.0.0.1.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		mode     = flag.String("mode", "latency", "latency, writes or streams")
		targets  = flag.String("targets", "http://127.0.0.1:8081,http://127.0.0.1:8082", "comma-separated instance base URLs")
		n        = flag.Int("n", 300, "latency: number of writes")
		writers  = flag.Int("writers", 64, "writes: concurrent writers")
		duration = flag.Duration("duration", 10*time.Second, "writes: how long")
		streams  = flag.Int("streams", 10000, "streams: number of streams")
		writes   = flag.Int("writes", 20, "streams: writes to deliver")
	)
	flag.Parse()
	bases := strings.Split(*targets, ",")
	var err error
	switch *mode {
	case "latency":
		err = latency(bases, *n)
	case "writes":
		err = throughput(bases, *writers, *duration)
	case "streams":
		err = fanout(bases, *streams, *writes)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgmulti:", err)
		os.Exit(1)
	}
}

var transport = &http.Transport{
	MaxIdleConnsPerHost: 1024,
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: transport}
}

func settings(i int) string {
	return fmt.Sprintf(`{"theme":"dark","language":"en","fontSize":%d,"notifications":true,"compactMode":false,"reducedMotion":false}`, 10+i%20)
}

func put(c *http.Client, url, body string) (string, error) {
	req, _ := http.NewRequest("PUT", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("PUT %s: %d %s", url, resp.StatusCode, data)
	}
	var s struct{ Revision string }
	if err := json.Unmarshal(data, &s); err != nil {
		return "", err
	}
	return s.Revision, nil
}

// stream opens an event stream for app-settings and calls onRevision with
// the revision of each invalidation, from its own goroutine. It returns
// once the stream is ready.
func stream(ctx context.Context, c *http.Client, base string, onRevision func(rev string)) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events?topic=app-settings", nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		return fmt.Errorf("stream: %d", resp.StatusCode)
	}
	ready := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		// Fields may come in any order; an event is dispatched at the
		// blank line that ends it.
		name, data, isReady := "", "", false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = line[len("data: "):]
			case line == "":
				switch {
				case name == "ready" && !isReady:
					isReady = true
					close(ready)
				case name == "invalidation":
					var d struct{ Revision string }
					if json.Unmarshal([]byte(data), &d) == nil {
						onRevision(d.Revision)
					}
				}
				name, data = "", ""
			}
		}
	}()
	select {
	case <-ready:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("stream on %s: no ready event", base)
	}
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// latency: PUT on bases[0], stream on bases[1]. Reports, per write, the
// time from sending the PUT to the invalidation arriving on the other
// instance (an upper bound of commit → invalidation, since the commit
// happens after the PUT is sent), and the PUT's own round trip.
func latency(bases []string, n int) error {
	if len(bases) < 2 {
		return fmt.Errorf("latency needs two targets")
	}
	got := make(chan string, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := stream(ctx, newClient(), bases[1], func(rev string) { got <- rev }); err != nil {
		return err
	}
	w := newClient()
	var toInvalidation, roundTrip []time.Duration
	for i := range n {
		start := time.Now()
		rev, err := put(w, bases[0]+"/api/topics/app-settings", settings(i))
		if err != nil {
			return err
		}
		rt := time.Since(start)
		for {
			select {
			case r := <-got:
				if r != rev {
					continue // an older one
				}
			case <-time.After(10 * time.Second):
				return fmt.Errorf("write %d (%s): no invalidation on the other instance", i, rev)
			}
			break
		}
		toInvalidation, roundTrip = append(toInvalidation, time.Since(start)), append(roundTrip, rt)
		time.Sleep(10 * time.Millisecond) // light load
	}
	fmt.Printf("latency: %d writes on %s, stream on %s\n", n, bases[0], bases[1])
	fmt.Printf("  PUT sent -> invalidation on the other instance: p50 %v  p90 %v  p99 %v\n",
		pct(toInvalidation, .5).Round(10*time.Microsecond), pct(toInvalidation, .9).Round(10*time.Microsecond), pct(toInvalidation, .99).Round(10*time.Microsecond))
	fmt.Printf("  PUT round trip (includes the commit):         p50 %v  p90 %v  p99 %v\n",
		pct(roundTrip, .5).Round(10*time.Microsecond), pct(roundTrip, .9).Round(10*time.Microsecond), pct(roundTrip, .99).Round(10*time.Microsecond))
	return nil
}

// throughput: writers clients, each its own principal (own cookie jar)
// writing its user-preferences, round-robin over bases.
func throughput(bases []string, writers int, d time.Duration) error {
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			c := newClient()
			base := bases[g%len(bases)]
			var mine []time.Duration
			for i := 0; time.Now().Before(deadline); i++ {
				body := fmt.Sprintf(`{"displayName":"w%d-%d","accentColor":"#123456","sidebar":"collapsed","favorites":[]}`, g, i)
				start := time.Now()
				if _, err := put(c, base+"/api/topics/user-preferences", body); err != nil {
					if failed.Add(1) == 1 {
						fmt.Fprintln(os.Stderr, "first failure:", err)
					}
					continue
				}
				mine = append(mine, time.Since(start))
				ok.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	fmt.Printf("writes: %d writers over %d instances for %v: %d ok (%.0f/s), %d failed; latency p50 %v p99 %v\n",
		writers, len(bases), d, ok.Load(), float64(ok.Load())/d.Seconds(), failed.Load(),
		pct(lat, .5).Round(10*time.Microsecond), pct(lat, .99).Round(10*time.Microsecond))
	return nil
}

// fanout: n streams over bases, then writes PUTs on bases[0], each
// waited for on every stream (or 10 s); a stream that never gets a
// write's revision missed it.
func fanout(bases []string, n, writes int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type rec struct {
		mu   sync.Mutex
		seen map[string]time.Time
	}
	recs := make([]*rec, n)
	var total atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var openErr atomic.Pointer[error]
	for i := range n {
		recs[i] = &rec{seen: map[string]time.Time{}}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := recs[i]
			err := stream(ctx, newClient(), bases[i%len(bases)], func(rev string) {
				r.mu.Lock()
				r.seen[rev] = time.Now()
				r.mu.Unlock()
				total.Add(1)
			})
			if err != nil {
				openErr.CompareAndSwap(nil, &err)
			}
		}()
	}
	wg.Wait()
	if e := openErr.Load(); e != nil {
		return fmt.Errorf("opening streams: %w", *e)
	}
	fmt.Printf("streams: %d open over %d instances\n", n, len(bases))
	w := newClient()
	missed := 0
	var lat []time.Duration
	for i := range writes {
		start := time.Now()
		before := total.Load()
		rev, err := put(w, bases[0]+"/api/topics/app-settings", settings(i))
		if err != nil {
			return err
		}
		deadline := time.Now().Add(10 * time.Second)
		for total.Load() < before+int64(n) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		for _, r := range recs {
			r.mu.Lock()
			t, ok := r.seen[rev]
			r.mu.Unlock()
			if !ok {
				missed++
				continue
			}
			lat = append(lat, t.Sub(start))
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("streams: %d writes x %d streams: %d missed; PUT sent -> delivered p50 %v p99 %v (all streams, both instances)\n",
		writes, n, missed, pct(lat, .5).Round(100*time.Microsecond), pct(lat, .99).Round(100*time.Microsecond))
	return nil
}
