package stream

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

var errEvicted = errors.New("stream: subscriber disconnected")

// deadlineWriter gives every write to a stream its own deadline, so that a
// client that stops reading blocks its stream for at most the timeout
// instead of for ever; a server-wide WriteTimeout would instead cut every
// healthy stream after a fixed time. r3labs asserts http.Flusher directly,
// so Flush is required; Unwrap lets http.ResponseController reach the
// connection.
type deadlineWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	dead    atomic.Bool

	mu       sync.Mutex // orders kill against finish
	finished bool       // the handler is returning; the connection may be reused
}

func newDeadlineWriter(w http.ResponseWriter, timeout time.Duration) *deadlineWriter {
	return &deadlineWriter{w: w, rc: http.NewResponseController(w), timeout: timeout}
}

func (d *deadlineWriter) Header() http.Header { return d.w.Header() }

func (d *deadlineWriter) WriteHeader(code int) {
	if d.dead.Load() {
		return
	}
	d.w.WriteHeader(code)
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if d.dead.Load() {
		return 0, errEvicted
	}
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.w.Write(p)
}

func (d *deadlineWriter) Flush() {
	if d.dead.Load() {
		return
	}
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	_ = d.rc.Flush()
}

func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.w }

// kill makes every later write fail at once and releases a write that is
// blocked now. Only the deadline is touched from another goroutine, which
// net.Conn allows.
func (d *deadlineWriter) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished || d.dead.Swap(true) {
		return
	}
	_ = d.rc.SetWriteDeadline(time.Now())
}

// finish marks the response as done: after it, kill must not touch the
// connection, which net/http may reuse for the next request.
func (d *deadlineWriter) finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.finished = true
	d.dead.Store(true)
}
