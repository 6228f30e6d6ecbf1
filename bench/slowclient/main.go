// Command slowclient measures what one client that stops reading costs the
// others: fast streams receive invalidations of paced writes, and their
// delivery latency (from the start of the write to the event's arrival)
// is measured in three phases of the same length: without the slow
// client, with it (a stream with a tiny receive buffer that never reads
// after its headers), and without it again, so the noise of the machine
// shows next to the effect.
//
//	pinion -addr 127.0.0.1:18080 -data /tmp/slow &
//	go run ./bench/slowclient -url http://127.0.0.1:18080 -streams 200 -writes 300
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pinionkit/pinion/bench/opsload"
)

// Config is one run.
type Config struct {
	Base     string
	Streams  int           // fast streams
	Writes   int           // writes per phase
	Interval time.Duration // between writes
}

// Phase is one phase's delivery latencies over every fast stream.
type Phase struct {
	Name      string
	Latencies []time.Duration // sorted
	Missed    int             // streams that did not see the phase's last revision
}

// Percentile of the phase's sorted latencies.
func (p Phase) Percentile(q float64) time.Duration {
	if len(p.Latencies) == 0 {
		return 0
	}
	return p.Latencies[int(q/100*float64(len(p.Latencies)-1))]
}

const topicName = "app-settings"

type arrival struct {
	rev uint64
	at  time.Time
}

type fast struct {
	mu       sync.Mutex
	arrivals []arrival
	last     uint64
}

// Run opens the fast streams and runs the three phases.
func Run(ctx context.Context, cfg Config) ([]Phase, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	streams := make([]*fast, cfg.Streams)
	var ready, done sync.WaitGroup
	errc := make(chan error, cfg.Streams)
	for i := range streams {
		f := &fast{}
		streams[i] = f
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			once := sync.OnceFunc(ready.Done)
			_, err := opsload.Stream(ctx, c, cfg.Base, []string{topicName}, "", func(ev opsload.Event) {
				switch ev.Name {
				case "ready":
					once()
				case "invalidation":
					rev := opsload.RevisionOf(ev.Data)
					f.mu.Lock()
					f.arrivals = append(f.arrivals, arrival{rev, ev.At})
					f.last = max(f.last, rev)
					f.mu.Unlock()
				}
			})
			once()
			if err != nil {
				errc <- err
			}
		}()
	}
	ready.Wait()
	select {
	case err := <-errc:
		return nil, fmt.Errorf("a fast stream failed: %w", err)
	default:
	}

	wc := opsload.Client()
	defer wc.CloseIdleConnections()
	phase := func(name string) (Phase, error) {
		for _, f := range streams {
			f.mu.Lock()
			f.arrivals = f.arrivals[:0]
			f.mu.Unlock()
		}
		started := make(map[uint64]time.Time, cfg.Writes)
		var lastRev uint64
		tick := time.NewTicker(cfg.Interval)
		defer tick.Stop()
		for i := 0; i < cfg.Writes; i++ {
			<-tick.C
			t0 := time.Now()
			rev, err := opsload.Write(ctx, wc, "PATCH", cfg.Base+"/api/topics/"+topicName, "application/merge-patch+json",
				`{"fontSize":`+strconv.Itoa(10+i%23)+`}`, "slowclient")
			if err != nil {
				return Phase{}, err
			}
			n, _ := strconv.ParseUint(rev, 10, 64)
			started[n], lastRev = t0, n
		}
		// Let every fast stream catch up with the last write.
		deadline := time.Now().Add(60 * time.Second)
		p := Phase{Name: name}
		for _, f := range streams {
			for {
				f.mu.Lock()
				last := f.last
				f.mu.Unlock()
				if last >= lastRev {
					break
				}
				if time.Now().After(deadline) {
					p.Missed++
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		for _, f := range streams {
			f.mu.Lock()
			for _, a := range f.arrivals {
				if t0, ok := started[a.rev]; ok {
					p.Latencies = append(p.Latencies, a.at.Sub(t0))
				}
			}
			f.mu.Unlock()
		}
		slices.Sort(p.Latencies)
		return p, nil
	}

	var phases []Phase
	p, err := phase("without the slow client")
	if err != nil {
		return nil, err
	}
	phases = append(phases, p)
	slow, err := openSlow(ctx, cfg.Base)
	if err != nil {
		return nil, err
	}
	p, err = phase("with one client that stopped reading")
	slow.Close()
	if err != nil {
		return nil, err
	}
	phases = append(phases, p)
	p, err = phase("without it again")
	if err != nil {
		return nil, err
	}
	phases = append(phases, p)
	cancel()
	done.Wait()
	return phases, nil
}

// openSlow opens a stream on a connection with the smallest receive
// buffer the kernel allows, reads its response headers, and then never
// reads again: its TCP window closes and the server's writes to it block.
func openSlow(ctx context.Context, base string) (net.Conn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		return errors.Join(err, serr)
	}}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(conn, "GET /api/events?topic=%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", topicName, u.Host)
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 16), nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != 200 {
		conn.Close()
		return nil, fmt.Errorf("slow stream: %d", resp.StatusCode)
	}
	return conn, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "slowclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("slowclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.Base, "url", "http://127.0.0.1:8080", "Pinion's public base URL")
	fs.IntVar(&cfg.Streams, "streams", 200, "fast streams")
	fs.IntVar(&cfg.Writes, "writes", 300, "writes per phase")
	fs.DurationVar(&cfg.Interval, "interval", 20*time.Millisecond, "time between writes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Streams <= 0 || cfg.Writes <= 0 || cfg.Interval <= 0 {
		return errors.New("-streams, -writes and -interval must be positive")
	}
	phases, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	for _, p := range phases {
		fmt.Fprintf(stdout, "%-40s deliveries=%d p50=%v p99=%v missed=%d\n", p.Name, len(p.Latencies),
			p.Percentile(50).Round(10*time.Microsecond), p.Percentile(99).Round(10*time.Microsecond), p.Missed)
	}
	base := max(phases[0].Percentile(99), phases[2].Percentile(99))
	fmt.Fprintf(stdout, "p99 with the slow client / the worse p99 without it = %.3f\n", float64(phases[1].Percentile(99))/float64(base))
	return nil
}
