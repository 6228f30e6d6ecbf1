// Command sseload is Pinion's SSE fan-out load generator. It opens N
// streams to a subscribe URL (loopback only), then makes K writes one
// after another through an HTTP request, and measures for each write how
// long until every stream dispatched an event after it: delivery latency
// p50/p99, misses, the server's CPU per delivery (/proc/<pid>/stat) and
// its RSS per idle stream (/proc/<pid>/status). Each write's event is the
// first event a stream dispatches after the write started, so it works
// with servers whose events do not echo the write (Pinion's invalidations).
// See BENCHMARKS.md for the commands.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "streams to open")
	k := flag.Int("k", 20, "writes to make, one after another")
	sub := flag.String("sub", "", "subscribe URL (GET), on 127.x.y.z")
	pubURL := flag.String("pub", "", "write URL, on 127.x.y.z")
	pubMethod := flag.String("method", "PUT", "write method")
	pubBody := flag.String("body", "{}", "write body")
	pubType := flag.String("type", "application/json", "write Content-Type")
	pid := flag.Int("pid", 0, "server process id, for CPU and RSS")
	srcIPs := flag.Int("src-ips", 1, "spread streams over source addresses 127.0.0.1..127.0.0.K (each has its own ephemeral ports)")
	ramp := flag.Int("ramp", 500, "streams opened at a time")
	gap := flag.Duration("gap", 200*time.Millisecond, "pause after each write's fan-out")
	wait := flag.Duration("wait", 10*time.Second, "how long a write's event may take before it counts as missed")
	settle := flag.Duration("settle", 2*time.Second, "pause after opening, before RSS is read")
	label := flag.String("label", "", "label of the summary line")
	flag.Parse()
	for _, u := range []string{*sub, *pubURL} {
		pu, err := url.Parse(u)
		if err != nil || !strings.HasPrefix(pu.Hostname(), "127.") {
			fail("sseload: -sub and -pub must be http://127.x.y.z URLs, got %q", u)
		}
	}
	var lim syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)

	r := &run{n: *n, k: *k, t0: make([]atomic.Int64, *k+1), got: make([]atomic.Int64, *k+1)}
	r.lat = make([][]int64, *k+1)
	for i := range r.lat {
		r.lat[i] = make([]int64, *n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	rssBefore := rss(*pid)
	start := time.Now()
	var wg sync.WaitGroup
	var connErrs sync.Map
	var connected atomic.Int64
	for base := 0; base < *n; base += *ramp {
		var batch sync.WaitGroup
		for i := base; i < min(base+*ramp, *n); i++ {
			batch.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := r.stream(ctx, i, *sub, *srcIPs, func() { connected.Add(1); batch.Done() })
				if err != nil {
					v, _ := connErrs.LoadOrStore(trim(err), new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
				}
			}()
		}
		batch.Wait()
	}
	rampTime := time.Since(start)
	time.Sleep(*settle)
	rssIdle := rss(*pid)
	live := r.live.Load()
	fmt.Printf("sseload: connected=%d/%d in %v nofile=%d\n", live, *n, rampTime.Round(time.Millisecond), lim.Cur)
	connErrs.Range(func(key, v any) bool {
		fmt.Printf("sseload: %d streams failed: %s\n", v.(*atomic.Int64).Load(), key)
		return true
	})

	client := &http.Client{Timeout: 30 * time.Second}
	cpu0 := cpuTicks(*pid)
	var pubErrs int
	for s := 1; s <= *k; s++ {
		r.t0[s].Store(time.Now().UnixNano())
		r.cur.Store(int64(s))
		req, _ := http.NewRequest(*pubMethod, *pubURL, strings.NewReader(*pubBody))
		req.Header.Set("Content-Type", *pubType)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			pubErrs++
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				fmt.Printf("sseload: write %d: %d %s\n", s, resp.StatusCode, bytes.TrimSpace(b))
			} else {
				fmt.Printf("sseload: write %d: %v\n", s, err)
			}
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		deadline := time.Now().Add(*wait)
		for r.got[s].Load() < r.live.Load() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(*gap)
	}
	cpu1 := cpuTicks(*pid)

	var all []int64
	var deliveries int64
	for s := 1; s <= *k; s++ {
		deliveries += r.got[s].Load()
		for _, l := range r.lat[s] {
			if l > 0 {
				all = append(all, l)
			}
		}
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return time.Duration(all[min(len(all)-1, int(float64(len(all))*p))])
	}
	missed := live*int64(*k) - deliveries
	cpuPer := 0.0
	if deliveries > 0 && *pid > 0 {
		cpuPer = float64(cpu1-cpu0) * 1e4 / float64(deliveries) // ticks of 10ms, in µs
	}
	kbPer := 0.0
	if live > 0 && *pid > 0 {
		kbPer = float64(rssIdle-rssBefore) / float64(live)
	}
	fmt.Printf("sseload label=%s streams=%d writes=%d deliveries=%d missed=%d dropped=%d write_errors=%d p50=%v p99=%v max=%v srv_cpu_us_per_delivery=%.1f srv_rss_mb=%.0f kb_per_idle_stream=%.1f\n",
		*label, live, *k, deliveries, missed, r.dropped.Load(), pubErrs,
		pct(0.50).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), pct(1).Round(100*time.Microsecond),
		cpuPer, float64(rssIdle)/1024, kbPer)
	cancel()
}

type run struct {
	n, k    int
	t0      []atomic.Int64 // start of write s, unix nanos
	cur     atomic.Int64   // the latest write started
	got     []atomic.Int64 // streams that received write s
	lat     [][]int64      // lat[s][i]: latency of write s on stream i
	live    atomic.Int64
	dropped atomic.Int64
}

// stream holds stream i open until ctx ends, crediting each write with the
// first event dispatched after it started.
func (r *run) stream(ctx context.Context, i int, sub string, srcIPs int, opened func()) error {
	u, _ := url.Parse(sub)
	d := net.Dialer{Timeout: 15 * time.Second}
	if srcIPs > 1 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%srcIPs))}
	}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		opened()
		return err
	}
	defer conn.Close()
	context.AfterFunc(ctx, func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", u.RequestURI(), u.Host)
	br := bufio.NewReaderSize(conn, 2048)
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		opened()
		return err
	}
	if resp.StatusCode != 200 {
		opened()
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	_ = conn.SetReadDeadline(time.Time{})
	r.live.Add(1)
	opened()
	body := bufio.NewReaderSize(resp.Body, 1024)
	credited := int64(0)
	hasData := false
	for {
		line, err := body.ReadSlice('\n')
		if err != nil {
			if ctx.Err() == nil {
				r.live.Add(-1)
				r.dropped.Add(1)
			}
			return nil
		}
		switch {
		case len(line) <= 2 && (line[0] == '\n' || line[0] == '\r'):
			if !hasData {
				continue
			}
			hasData = false
			s := r.cur.Load()
			if s > credited {
				now := time.Now().UnixNano()
				r.lat[s][i] = now - r.t0[s].Load()
				r.got[s].Add(1)
				credited = s
			}
		case bytes.HasPrefix(line, []byte("data:")):
			hasData = true
		}
	}
}

func trim(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// rss is the process's resident set in KB.
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// cpuTicks is the process's user plus system time in clock ticks (10 ms).
func cpuTicks(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of the line
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return ut + st
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}
