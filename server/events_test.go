package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
)

type invalidation struct {
	Topic       string `json:"topic"`
	Revision    string `json:"revision"`
	SourceID    string `json:"sourceId"`
	TimestampMs int64  `json:"timestampMs"`
}

func (e event) invalidation(t *testing.T) invalidation {
	t.Helper()
	if e.name != "invalidation" || e.id == "" {
		t.Fatalf("not an invalidation with an id: %+v", e)
	}
	var inv invalidation
	decodeStrict(t, e.data, &inv)
	if inv.Topic == "" || inv.Revision == "" || inv.TimestampMs <= 0 {
		t.Fatalf("incomplete invalidation %s", e.data)
	}
	return inv
}

func (e event) ready(t *testing.T) string {
	t.Helper()
	if e.name != "ready" || e.id == "" {
		t.Fatalf("not a ready event with an id: %+v", e)
	}
	var r struct {
		Cursor string `json:"cursor"`
	}
	decodeStrict(t, e.data, &r)
	if r.Cursor != e.id {
		t.Fatalf("ready cursor %q, id %q", r.Cursor, e.id)
	}
	return r.Cursor
}

func put(t *testing.T, b *browser, topic, body string, headers ...string) snap {
	t.Helper()
	return b.do("PUT", "/api/topics/"+topic, body, append([]string{"Content-Type", "application/json"}, headers...)...).snapshot(t)
}

func TestEventStream(t *testing.T) {
	h := startMemory(t)
	b := h.browser()

	t.Run("headers, retry, ready", func(t *testing.T) {
		// With its session already set: an answer that sets a cookie is
		// private (server/security.go).
		b.do("GET", "/api/topics", "")
		s := b.stream("/api/events?topic=app-settings")
		for k, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
			if got := s.resp.Header.Get(k); got != v {
				t.Errorf("%s %q, want %q", k, got, v)
			}
		}
		ev := s.next(t)
		cur := ev.ready(t)
		if n, err := strconv.Atoi(ev.retry); err != nil || n < 2000 || n > 2500 {
			t.Fatalf("retry %q", ev.retry)
		}
		if _, err := store.ParseCursor(cur); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("live invalidation", func(t *testing.T) {
		s := b.stream("/api/events?topic=app-settings&topic=cart")
		s.next(t).ready(t)
		w := put(t, b, "app-settings", validSettings, "X-Source-Id", "w-3f2a")
		inv := s.next(t).invalidation(t)
		if inv.Topic != "app-settings" || inv.Revision != w.Revision || inv.SourceID != "w-3f2a" {
			t.Fatalf("got %+v want revision %s", inv, w.Revision)
		}
		if now := time.Now().UnixMilli(); inv.TimestampMs > now || inv.TimestampMs < now-60_000 {
			t.Fatalf("timestampMs %d", inv.TimestampMs)
		}
		put(t, b, "cart", `{"items":[],"coupon":""}`)
		ev := s.next(t)
		if inv := ev.invalidation(t); inv.Topic != "cart" || strings.Contains(ev.data, "sourceId") {
			t.Fatalf("got %s", ev.data)
		}
		// Topics not subscribed are not sent.
		b.do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json").snapshot(t)
		s.none(t, 200*time.Millisecond)
	})

	t.Run("unknown topic answers 404 before the stream", func(t *testing.T) {
		b.do("GET", "/api/events?topic=app-settings&topic=nope", "").problem(t, 404)
		b.do("GET", "/api/events?topic=UPPER", "").problem(t, 404)
	})
}

func TestResume(t *testing.T) {
	h := startMemory(t)
	b := h.browser()
	topics := "/api/events?topic=app-settings&topic=cart&topic=user-preferences"
	put(t, b, "user-preferences", `{"displayName":"","accentColor":"#000000","sidebar":"expanded","favorites":[]}`)

	s := b.stream(topics)
	cursor := s.next(t).ready(t)
	s.close()

	// While disconnected: the cart changes twice, settings once, counter
	// (not subscribed) once.
	put(t, b, "cart", `{"items":[],"coupon":"A"}`)
	settings := put(t, b, "app-settings", validSettings)
	cart := put(t, b, "cart", `{"items":[],"coupon":"B"}`)
	b.do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json").snapshot(t)

	check := func(t *testing.T, s *sseConn) {
		t.Helper()
		first := s.next(t)
		if first.retry == "" {
			t.Fatal("first event carries no retry")
		}
		a := first.invalidation(t)
		c := s.next(t).invalidation(t)
		if a.Topic != "app-settings" || a.Revision != settings.Revision || c.Topic != "cart" || c.Revision != cart.Revision {
			t.Fatalf("replayed %+v, %+v", a, c)
		}
		if want := (store.Cursor{Epoch: h.st.Info().Epoch, Revision: rev(t, settings.Revision)}).String(); first.id != want {
			t.Fatalf("replayed id %q is not the change's cursor", first.id)
		}
		s.next(t).ready(t)
	}
	t.Run("Last-Event-ID", func(t *testing.T) {
		check(t, b.stream(topics, "Last-Event-ID", cursor))
	})
	t.Run("lastEventId parameter", func(t *testing.T) {
		check(t, b.stream(topics+"&lastEventId="+cursor))
	})
	t.Run("header wins over parameter", func(t *testing.T) {
		check(t, b.stream(topics+"&lastEventId=garbage", "Last-Event-ID", cursor))
	})
	t.Run("cut mid-replay resumes where it stopped", func(t *testing.T) {
		s := b.stream(topics, "Last-Event-ID", cursor)
		first := s.next(t)
		first.invalidation(t)
		s.close()
		s = b.stream(topics, "Last-Event-ID", first.id)
		if inv := s.next(t).invalidation(t); inv.Topic != "cart" || inv.Revision != cart.Revision {
			t.Fatalf("got %+v", inv)
		}
		s.next(t).ready(t)
	})
	t.Run("no cursor replays nothing", func(t *testing.T) {
		b.stream(topics).next(t).ready(t)
		b.stream(topics + "&lastEventId=").next(t).ready(t)
	})
	t.Run("current cursor replays nothing", func(t *testing.T) {
		s := b.stream(topics)
		cur := s.next(t).ready(t)
		b.stream(topics, "Last-Event-ID", cur).next(t).ready(t)
	})
	for _, foreign := range []string{"garbage", "0000.1", h.st.Info().Epoch + ".99999999999999999", h.st.Info().Epoch + ".007"} {
		t.Run("unplaceable cursor "+foreign+" replays everything", func(t *testing.T) {
			s := b.stream(topics, "Last-Event-ID", foreign)
			got := map[string]string{}
			var last store.Revision
			for {
				ev := s.next(t)
				if ev.name == "ready" {
					break
				}
				inv := ev.invalidation(t)
				if r := rev(t, inv.Revision); r < last {
					t.Fatalf("replay out of order: %d after %d", r, last)
				} else {
					last = r
				}
				got[inv.Topic] = inv.Revision
			}
			if len(got) != 3 || got["cart"] != cart.Revision || got["app-settings"] != settings.Revision {
				t.Fatalf("replayed %v", got)
			}
		})
	}
}

func TestNeverWrittenReplayAtInitial(t *testing.T) {
	h := startMemory(t)
	b := h.browser()
	s := b.stream("/api/events?topic=cart", "Last-Event-ID", "other.5")
	inv := s.next(t).invalidation(t)
	if inv.Topic != "cart" || rev(t, inv.Revision) != h.st.Info().Initial {
		t.Fatalf("got %+v", inv)
	}
	s.next(t).ready(t)
}

func TestHeartbeat(t *testing.T) {
	h := start(t, memory.Open(), server.Config{Heartbeat: 100 * time.Millisecond})
	s := h.browser().stream("/api/events")
	s.next(t).ready(t)
	select {
	case ev := <-s.events:
		if ev.comment == "" {
			t.Fatalf("expected a comment, got %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no heartbeat")
	}
}

func TestStreamLimit(t *testing.T) {
	h := start(t, memory.Open(), server.Config{MaxStreamsPerPrincipal: 2})
	b := h.browser()
	b.do("GET", "/api/topics", "") // get a cookie
	b.stream("/api/events").next(t)
	b.stream("/api/events").next(t)
	r := b.do("GET", "/api/events", "")
	r.problem(t, 429)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	h.browser().stream("/api/events").next(t) // another principal is not affected
}

// TestSlowSubscriberIsDisconnected stalls one subscriber (it never reads,
// with a tiny receive buffer) while a second one must get every change
// before the next is written. If the slow one could hold up fan-out, the
// fast one would stop receiving and the test would time out. The slow one
// goes either because its queue overflows (evicted) or because the kernel
// gives up on a peer that acknowledges nothing for the peer timeout,
// whichever comes first on a loaded machine.
func TestSlowSubscriberIsDisconnected(t *testing.T) {
	st := memory.Open()
	h := start(t, st, server.Config{})
	addr := strings.TrimPrefix(h.base, "http://")

	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		_ = c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		})
		return err
	}}
	slow, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET /api/events?topic=counter HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", addr)

	fast := h.browser().stream("/api/events?topic=counter")
	fast.next(t).ready(t)
	waitFor(t, "two streams", func() bool { return h.srv.Stats().Streams == 2 })

	key := store.Key{Topic: "counter"}
	source := strings.Repeat("s", 128) // bigger events fill buffers sooner
	var last store.Document
	for i := 0; h.srv.Stats().Evicted == 0 && h.srv.Stats().Streams == 2; i++ {
		if i == 200_000 {
			t.Fatal("the stalled subscriber was never disconnected")
		}
		last, err = st.Update(context.Background(), key, source, func(cur store.Document) ([]byte, error) {
			return []byte(`{"n":` + strconv.Itoa(i) + `}`), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if inv := fast.next(t).invalidation(t); inv.Revision != last.Revision.String() {
			t.Fatalf("fast subscriber got %s, want %s", inv.Revision, last.Revision)
		}
	}
	if got := h.srv.Stats().Streams; got != 1 {
		waitFor(t, "the slow stream to close", func() bool { return h.srv.Stats().Streams == 1 })
	}

	// The stalled client now reads what reached it: the stream ends, and
	// the last id it got lets it resume without losing anything.
	lastID := ""
	_ = slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	rd := bufio.NewReader(slow)
	for {
		line, err := rd.ReadString('\n')
		if strings.HasPrefix(line, "id: ") {
			lastID = strings.TrimSpace(strings.TrimPrefix(line, "id: "))
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the slow stream was not closed by the server")
			}
			break
		}
	}
	if lastID == "" {
		t.Fatal("the slow client received no event id")
	}
	// One more change after the disconnect.
	last, err = st.Update(context.Background(), key, "", func(store.Document) ([]byte, error) { return []byte(`{"n":1}`), nil })
	if err != nil {
		t.Fatal(err)
	}
	resumed := h.browser().stream("/api/events?topic=counter", "Last-Event-ID", lastID)
	if inv := resumed.next(t).invalidation(t); inv.Revision != last.Revision.String() {
		t.Fatalf("resume delivered %s, want %s", inv.Revision, last.Revision)
	}
	resumed.next(t).ready(t)
}
