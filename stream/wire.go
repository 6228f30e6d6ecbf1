package stream

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
	"github.com/r3labs/sse/v2"
)

// This file is the one place github.com/r3labs/sse/v2 is used. Pinion's
// events are the library's Event values, written in the library's field
// layout (id, data, event, retry, comment), so a stream reads exactly as it
// did when r3labs served it. What Pinion does not use is the library's
// serving machinery: its per-stream goroutine, its two channel hops and
// its formatted writes per field are what made a delivery cost about 40%
// more CPU than a bare net/http server (BENCHMARKS.md), and its
// subscription life cycle is what forced catch-up onto a goroutine nothing
// waited for. Each stream's own loop (loop.go) writes the bytes below.

// encode renders ev once, in the layout of r3labs' ServeHTTP. Callers only
// build events whose fields cannot break the framing: constant names,
// cursor ids, compact JSON data (no newline, never starting with ':').
func encode(ev *sse.Event) []byte {
	n := len(ev.ID) + len(ev.Data) + len(ev.Event) + len(ev.Retry) + len(ev.Comment) + 32
	b := make([]byte, 0, n)
	if len(ev.Data) > 0 {
		b = append(append(append(b, "id: "...), ev.ID...), '\n')
		b = append(append(append(b, "data: "...), ev.Data...), '\n')
		if len(ev.Event) > 0 {
			b = append(append(append(b, "event: "...), ev.Event...), '\n')
		}
		if len(ev.Retry) > 0 {
			b = append(append(append(b, "retry: "...), ev.Retry...), '\n')
		}
	}
	if len(ev.Comment) > 0 {
		b = append(append(append(b, ": "...), ev.Comment...), '\n')
	}
	return append(b, '\n')
}

// event is one encoded event and the revision its id names.
type event struct {
	rev  store.Revision
	wire []byte
}

// invalidationData is the InvalidationEvent of @statesync/core.
type invalidationData struct {
	Topic       string `json:"topic"`
	Revision    string `json:"revision"`
	SourceID    string `json:"sourceId,omitempty"`
	TimestampMs int64  `json:"timestampMs"`
}

// invalidation encodes ch with the cursor id of idRev (which is ch's
// revision except inside a run of never-written documents; see replay).
func (h *Hub) invalidation(ch store.Change, idRev store.Revision) *event {
	ts := ch.Time.UnixMilli()
	if ch.Time.IsZero() {
		// A never-written document changed when the store was created;
		// Initial is that time in microseconds, plus one.
		ts = int64(h.info.Initial-1) / 1000
	}
	// json.Marshal output is compact: no raw newline can split the data
	// line, and it never starts with ':'.
	data, err := json.Marshal(invalidationData{
		Topic:       ch.Topic,
		Revision:    ch.Revision.String(),
		SourceID:    ch.SourceID,
		TimestampMs: ts,
	})
	if err != nil {
		panic(fmt.Sprintf("stream: marshal invalidation: %v", err)) // plain strings and ints cannot fail
	}
	return &event{rev: idRev, wire: encode(&sse.Event{
		ID:    []byte(h.cursor(idRev)),
		Event: []byte(protocol.EventInvalidation),
		Data:  data,
	})}
}

func (h *Hub) ready(rev store.Revision) []byte {
	cur := h.cursor(rev)
	data, _ := json.Marshal(struct {
		Cursor string `json:"cursor"`
	}{cur})
	return encode(&sse.Event{ID: []byte(cur), Event: []byte(protocol.EventReady), Data: data})
}

func (h *Hub) cursor(rev store.Revision) string {
	return store.Cursor{Epoch: h.info.Epoch, Revision: rev}.String()
}

// heartbeat is the comment a silent stream sends.
var heartbeat = encode(&sse.Event{Comment: []byte("keep-alive")})

// retryField is a retry line for d plus up to extra more, at random, so
// that clients cut off together spread their reconnections. It stands at
// the start of a stream, where it joins the first event's field block
// (r3labs writes retry only on events with data; a bare field line does
// the same for a browser).
func retryField(d, extra int64) []byte {
	ms := d + rand.Int64N(extra+1)
	return append(strconv.AppendInt([]byte("retry: "), ms, 10), '\n')
}
