package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/server/servertest"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/store/sqlite"
)

// benchServer runs a server for a benchmark on the given backend.
func benchServer(b *testing.B, backend string) (*server.Server, testStore, string) {
	b.Helper()
	var st testStore
	switch backend {
	case "memory":
		st = memory.Open()
	case "sqlite":
		s, err := sqlite.Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		st = s
	}
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", MaxStreams: 20000, MaxStreamsPerPrincipal: 20000}, st, testTopics(b), fixedPrincipal{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return srv, st, servertest.Run(b, srv)
}

// fixedPrincipal makes every request the same principal, so benchmarks
// need no cookies.
type fixedPrincipal struct{}

func (fixedPrincipal) Authenticate(http.ResponseWriter, *http.Request) (string, error) {
	return "bench", nil
}

// BenchmarkWrite measures a full PUT and an action over HTTP: decode,
// validate, commit (fsync on sqlite), answer.
func BenchmarkWrite(b *testing.B) {
	for _, backend := range []string{"memory", "sqlite"} {
		for _, op := range []string{"put", "action"} {
			b.Run(backend+"/"+op, func(b *testing.B) {
				_, _, base := benchServer(b, backend)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				method, path, body := "PUT", "/api/topics/app-settings", validSettings
				if op == "action" {
					method, path, body = "POST", "/api/topics/counter/actions/increment", `{"by":1}`
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						resp, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkFanout measures one committed change reaching every one of N
// real SSE connections (raw sockets, parsed line by line). One op is one
// change delivered to all N.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			srv, st, base := benchServer(b, "memory")
			addr := strings.TrimPrefix(base, "http://")
			// Changes are made one at a time, each only after every stream
			// got the previous one, so each invalidation line is one
			// delivery of the current change.
			var (
				wg    sync.WaitGroup
				got   sync.WaitGroup
				conns []net.Conn
			)
			for i := 0; i < n; i++ {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
				fmt.Fprintf(c, "GET /api/events?topic=counter HTTP/1.1\r\nHost: x\r\n\r\n")
				wg.Add(1)
				go func() {
					defer wg.Done()
					rd := bufio.NewReader(c)
					for {
						line, err := rd.ReadString('\n')
						if err != nil {
							return
						}
						if strings.HasPrefix(line, "event: invalidation") {
							got.Done()
						}
					}
				}()
			}
			for srv.Stats().Streams < n {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // let every stream finish its catch-up
			key := store.Key{Topic: "counter"}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got.Add(n)
				_, err := st.Update(context.Background(), key, "", func(store.Document) ([]byte, error) { return []byte(`{"n":1}`), nil })
				if err != nil {
					b.Fatal(err)
				}
				got.Wait()
			}
			b.StopTimer()
			b.ReportMetric(float64(n), "streams")
			for _, c := range conns {
				c.Close()
			}
			wg.Wait()
		})
	}
}
