package stream

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
)

// stalledClient opens a stream over a raw socket with a tiny receive
// buffer and never reads it.
func stalledClient(t *testing.T, th *testHub, query string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		_ = c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		})
		return err
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(th.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /?%s HTTP/1.1\r\nHost: x\r\n\r\n", query)
	return conn
}

// smallSendBuffer makes a stalled client's socket fill after kilobytes,
// not megabytes.
func smallSendBuffer(th *testHub) {
	th.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if tc, ok := c.(*net.TCPConn); ok && s == http.StateNew {
			_ = tc.SetWriteBuffer(4096)
		}
	}
}

// fill writes big changes to topic until cond holds.
func fill(t *testing.T, st *memory.Store, topic string, cond func() bool) {
	t.Helper()
	big := strings.Repeat("x", 512)
	for i := 0; !cond(); i++ {
		if i > 200_000 {
			t.Fatal("condition never reached")
		}
		if _, err := st.Update(t.Context(), store.Key{Topic: topic}, big, func(store.Document) ([]byte, error) { return []byte(`{}`), nil }); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let the follower keep up
		}
	}
}

// TestStalledWriteIsCut: a client whose socket stops accepting data is
// disconnected once one write blocks longer than WriteTimeout, even
// before its queue fills.
func TestStalledWriteIsCut(t *testing.T) {
	st := memory.Open()
	th := startHub(t, st, Config{WriteTimeout: 200 * time.Millisecond, Queue: 1 << 16})
	smallSendBuffer(th)
	th.start()
	stalledClient(t, th, "key=a")
	waitFor(t, "the stream", func() bool { return th.hub.Stats().Streams == 1 })
	fill(t, st, "a", func() bool { return th.hub.Stats().Streams == 0 })
	if n := th.hub.Stats().Evicted; n != 0 {
		t.Fatalf("evicted by the queue (%d), not the write deadline", n)
	}
}

// TestEvictionIsImmediate: with a write timeout of an hour, a stalled
// stream whose queue overflows is still freed at once: the eviction's
// deadline is not pushed back by the write in progress.
func TestEvictionIsImmediate(t *testing.T) {
	st := memory.Open()
	th := startHub(t, st, Config{WriteTimeout: time.Hour, Queue: 4})
	smallSendBuffer(th)
	th.start()
	stalledClient(t, th, "key=a")
	waitFor(t, "the stream", func() bool { return th.hub.Stats().Streams == 1 })
	fill(t, st, "a", func() bool { return th.hub.Stats().Evicted > 0 })
	waitFor(t, "the evicted stream to be freed", func() bool { return th.hub.Stats().Streams == 0 })
}

// TestHeartbeatsNeverLate: an idle stream, and one whose events arrive in
// between, both get a comment at least every Heartbeat (plus the slack a
// loaded machine needs to deliver it).
func TestHeartbeatsNeverLate(t *testing.T) {
	const beat = 300 * time.Millisecond
	st := memory.Open()
	th := startHub(t, st, Config{Heartbeat: beat}).start()
	c := th.open("key=a")
	c.next(t)
	last := time.Now()
	var gaps []time.Duration
	for len(gaps) < 8 {
		select {
		case ev := <-c.events:
			now := time.Now()
			gaps = append(gaps, now.Sub(last))
			last = now
			if ev.Comment == "" {
				continue
			}
			if len(gaps) == 3 {
				write(t, st, "a") // an event resets the silence
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no heartbeat")
		}
	}
	for _, g := range gaps {
		// Generous: the bound is a proof of design, not of speed.
		if g > beat+2*time.Second {
			t.Fatalf("gap %v between writes, heartbeat %v (gaps %v)", g, beat, gaps)
		}
	}
}

// TestShutdownEndsStreamsCleanly: every stream ends with a clean end of
// stream after a retry field, a stream request during the drain gets a
// 200 stream with a retry and an immediate end (which EventSource
// retries), and a stalled stream is cut after drainWrite.
func TestShutdownEndsStreamsCleanly(t *testing.T) {
	st := memory.Open()
	th := startHub(t, st, Config{WriteTimeout: time.Hour})
	smallSendBuffer(th)
	th.start()
	c := th.open("key=a")
	c.next(t)
	stalledClient(t, th, "key=b")
	waitFor(t, "two streams", func() bool { return th.hub.Stats().Streams == 2 })
	fill(t, st, "b", func() bool { return th.hub.queued() > 0 })

	th.hub.Shutdown()
	if err := c.end(t); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
	waitFor(t, "the stalled stream to be cut", func() bool { return th.hub.Stats().Streams == 0 })

	resp, err := http.Get(th.url + "/?key=a")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("during the drain: %d %q %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	retry := ""
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "retry: "); ok {
			retry = v
		}
	}
	if ms, err := strconv.Atoi(retry); err != nil || ms < 2000 || ms > 4000 {
		t.Fatalf("drain answer %q has no usable retry", body)
	}
}
