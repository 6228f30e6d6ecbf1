package stream

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
)

// gated wraps a store so that a stream's catch-up read returns what it
// read, but only when the test lets it: changes committed meanwhile race
// with the catch-up exactly as they can in production.
type gated struct {
	*memory.Store
	entered chan struct{}
	release chan struct{}
}

func (g *gated) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	changes, head, err := g.Store.Heads(ctx, keys)
	if keys != nil { // the follower's own start-up read passes nil
		g.entered <- struct{}{}
		<-g.release
	}
	return changes, head, err
}

func write(t *testing.T, st *memory.Store, topic string) store.Document {
	t.Helper()
	doc, err := st.Update(context.Background(), store.Key{Topic: topic}, "", func(store.Document) ([]byte, error) { return []byte(`{}`), nil })
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

type frame struct{ id, name, data string }

func readFrames(t *testing.T, rd *bufio.Reader, n int) []frame {
	t.Helper()
	var out []frame
	var f frame
	for len(out) < n {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (after %d frames)", err, len(out))
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if f.name != "" {
				out = append(out, f)
			}
			f = frame{}
		case strings.HasPrefix(line, "id: "):
			f.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			f.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			f.data = line[6:]
		}
	}
	return out
}

func TestLiveChangesDuringCatchUpFollowTheReplay(t *testing.T) {
	st := memory.Open()
	src := &gated{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
	hub := New(src, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = hub.Serve(w, r, Subscription{
			Principal: "p",
			Keys:      []store.Key{{Topic: "a"}, {Topic: "b"}},
			Cursor:    r.Header.Get("Last-Event-ID"),
		})
	}))
	defer srv.Close()

	_, head, _ := st.Heads(ctx, nil)
	cursor := store.Cursor{Epoch: st.Info().Epoch, Revision: head}.String()
	a1 := write(t, st, "a")

	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Last-Event-ID", cursor)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-src.entered // the catch-up has read: a@a1, head a1

	b2 := write(t, st, "b")
	a3 := write(t, st, "a")
	deadline := time.Now().Add(10 * time.Second)
	for {
		hub.mu.RLock()
		var pending int
		for _, c := range hub.conns {
			c.mu.Lock()
			pending = len(c.pending)
			c.mu.Unlock()
		}
		hub.mu.RUnlock()
		if pending == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live changes were not held while catching up (pending %d)", pending)
		}
		time.Sleep(time.Millisecond)
	}
	close(src.release)

	frames := readFrames(t, bufio.NewReader(resp.Body), 4)
	want := []struct {
		name string
		rev  store.Revision
	}{{"invalidation", a1.Revision}, {"invalidation", b2.Revision}, {"invalidation", a3.Revision}, {"ready", a3.Revision}}
	for i, w := range want {
		id := store.Cursor{Epoch: st.Info().Epoch, Revision: w.rev}.String()
		if frames[i].name != w.name || frames[i].id != id {
			t.Fatalf("frame %d = %+v, want %s with id %s", i, frames[i], w.name, id)
		}
	}
}

// TestStalledWriteIsCut checks the per-write deadline: a client whose
// socket stops accepting data is disconnected once one write blocks
// longer than WriteTimeout, even before its queue fills.
func TestStalledWriteIsCut(t *testing.T) {
	st := memory.Open()
	hub := New(st, Config{WriteTimeout: 200 * time.Millisecond, Queue: 1 << 16})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	served := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = hub.Serve(w, r, Subscription{Principal: "p", Keys: []store.Key{{Topic: "a"}}})
		close(served)
	}))
	// A small send buffer makes the stall come after kilobytes, not
	// megabytes.
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if tc, ok := c.(*net.TCPConn); ok && s == http.StateNew {
			_ = tc.SetWriteBuffer(4096)
		}
	}
	srv.Start()
	defer srv.Close()

	// A raw client with a tiny receive buffer that never reads: the
	// server's socket fills after a few megabytes.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		_ = c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		})
		return err
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for hub.Stats().Streams == 0 {
		time.Sleep(time.Millisecond)
	}
	big := strings.Repeat("x", 128)
	for i := 0; ; i++ {
		select {
		case <-served:
			// The stream ended because a blocked write hit its deadline,
			// not because its (huge) queue filled.
			if n := hub.Stats().Evicted; n != 0 {
				t.Fatalf("evicted by the queue (%d), not the write deadline", n)
			}
			return
		default:
		}
		if i > 200_000 {
			t.Fatal("the stalled stream was never cut")
		}
		if _, err := st.Update(ctx, store.Key{Topic: "a"}, big, func(store.Document) ([]byte, error) { return []byte(`{}`), nil }); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let the follower keep up so changes are not compacted away
		}
	}
}
